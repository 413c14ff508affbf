import { type ChildPlanner, type ChildStore, createChildPlanner, originsOf } from './children.plan.js'
import type { StreamRef } from './types.js'
import { otherSide, type MappingSpec, type OutboxRequest, type OutboxState, type Side, type SyncDirection } from './write.types.js'

/**
 * Related items of a mapping (DESIGN §2: "copied when both ends are linked; the relation waits
 * until they are"). Each relation seen in the mirror is paired across the two sides by a
 * relation link; this module decides, from what the mirror and the outbox show now, what
 * becomes of each pair. It runs after reconcile has read the change log, so a link created in
 * this pass (or filled in by a push since the last one) releases the relations waiting for it.
 *
 * Lifecycle of a relation link: `waiting` (an end is not linked) → `copying` (a relate is in
 * the outbox) → `linked` (on both sides). A relation removed on one side of a `linked` pair is
 * removed on the other when the mapping copies related items both ways (`removing`, then gone);
 * with a one-way mapping, a removal at the origin ends the pairing and leaves the copy, and a
 * copy removed on its target is `ended` and not copied again.
 *
 * A removal is only ever read from the mirror where the relation was seen before (`seen`):
 * a copy the target has not been read back with yet is not missing.
 */

export type RelationState = 'waiting' | 'copying' | 'linked' | 'removing' | 'ended'

export interface RelationEnds {
  parent: string
  related: string
}

/** A relation link with the facts the planner decides on, as the store reads them. */
export interface RelationEntry {
  id: number
  origin: Side
  state: RelationState
  /** The relation's ends on each side; null on the side it has not been copied to. */
  ends: Record<Side, RelationEnds | null>
  seen: Record<Side, boolean>
  /** The mirror shows the relation on that side now. */
  present: Record<Side, boolean>
  /** The link of the parent records, when they are linked. */
  parentLinkId: number | null
  /** The last relate or unrelate queued for it, and its state. */
  outbox: { id: number; state: OutboxState } | null
  /** Waiting entries whose two ends are now linked: their ends on the other side. */
  counterpart?: RelationEnds & {
    /** The other side's mirror already has this relation. */
    present: boolean
    /** Another relation link already holds these ends (the same relation, first seen on the other side). */
    clashId: number | null
  }
}

export type RelationUpdate = Partial<Pick<RelationEntry, 'state' | 'seen'>> & {
  ends?: Record<Side, RelationEnds | null>
  outboxId?: number
}

/** One planning transaction over a mapping's relation links. */
export interface RelatedTx {
  /** Adds a `waiting` relation link for every relation of `origin`'s stream (both ends in it) that has none. */
  discover(mappingId: string, streams: Record<Side, StreamRef>, origin: Side): Promise<number>
  /**
   * The relation links of the mapping that may need a decision, with the facts above; waiting ones with
   * their counterpart when both ends are linked. A `linked` pair whose presence on each side is as last
   * seen may be left out: nothing is decided for it.
   */
  review(mappingId: string, streams: Record<Side, StreamRef>): Promise<RelationEntry[]>
  update(id: number, change: RelationUpdate): Promise<void>
  remove(id: number): Promise<void>
  /** Queues a relate or unrelate; the outbox row's id. */
  enqueue(req: OutboxRequest): Promise<number>
}

export type RelatedStore = ChildStore<RelatedTx>

/** What to do with one relation link; pure. */
export type RelationDecision =
  | { kind: 'keep' }
  | { kind: 'update'; change: RelationUpdate; alsoDelete?: number }
  | { kind: 'delete'; alsoDelete?: number }
  | { kind: 'write'; op: 'relate' | 'unrelate'; target: Side; ends: RelationEnds; change: RelationUpdate; alsoDelete?: number }

const finished = (o: RelationEntry['outbox']): boolean => o === null || o.state === 'sent' || o.state === 'ignored' || o.state === 'superseded'

export function decideRelation(e: RelationEntry, direction: SyncDirection | undefined): RelationDecision {
  const both = direction === 'both'
  const seen = { left: e.seen.left || e.present.left, right: e.seen.right || e.present.right }
  const seenChanged = seen.left !== e.seen.left || seen.right !== e.seen.right
  const keepOrSeen = (): RelationDecision => (seenChanged ? { kind: 'update', change: { seen } } : { kind: 'keep' })
  const o = e.origin
  const t = otherSide(o)

  switch (e.state) {
    case 'waiting': {
      // removed at its origin before it could be copied
      if (!e.present[o]) return { kind: 'delete' }
      const c = e.counterpart
      if (!c || e.parentLinkId === null) return { kind: 'keep' }
      const ends = { ...e.ends, [t]: { parent: c.parent, related: c.related } } as Record<Side, RelationEnds | null>
      const alsoDelete = c.clashId ?? undefined
      // already there (related on both sides independently): paired without a write
      if (c.present)
        return {
          kind: 'update',
          change: { state: 'linked', ends, seen: { ...seen, [t]: true } as Record<Side, boolean> },
          ...(alsoDelete !== undefined ? { alsoDelete } : {}),
        }
      return {
        kind: 'write',
        op: 'relate',
        target: t,
        ends: { parent: c.parent, related: c.related },
        change: { state: 'copying', ends, seen },
        ...(alsoDelete !== undefined ? { alsoDelete } : {}),
      }
    }
    case 'copying':
      // a dead relate stays visible as copying with its dead write, for an admin's retry
      if (!finished(e.outbox)) return keepOrSeen()
      return { kind: 'update', change: { state: 'linked', seen } }
    case 'removing': {
      if (!finished(e.outbox)) return keepOrSeen()
      // gone once neither side's mirror shows it; until then the pair keeps the other side from copying it back
      return e.present.left || e.present.right ? keepOrSeen() : { kind: 'delete' }
    }
    case 'ended':
      return e.present[o] ? keepOrSeen() : { kind: 'delete' }
    case 'linked': {
      const gone = { left: e.seen.left && !e.present.left, right: e.seen.right && !e.present.right }
      if (gone.left && gone.right) return { kind: 'delete' }
      if (!gone.left && !gone.right) return keepOrSeen()
      const removedOn: Side = gone.left ? 'left' : 'right'
      const remaining = otherSide(removedOn)
      if (both) {
        const ends = e.ends[remaining]
        if (!ends || e.parentLinkId === null) return keepOrSeen()
        return { kind: 'write', op: 'unrelate', target: remaining, ends, change: { state: 'removing', seen } }
      }
      // one way: a removal at the origin leaves the copy; a copy removed on its target is not copied again
      return removedOn === o ? { kind: 'delete' } : { kind: 'update', change: { state: 'ended', seen } }
    }
  }
}

export interface RelatedPlannerOptions {
  mapping: Pick<MappingSpec, 'id' | 'left' | 'right' | 'related'>
  store: RelatedStore
  planLine: (req: OutboxRequest) => string
}

export function createRelatedPlanner(opts: RelatedPlannerOptions): ChildPlanner {
  const { mapping } = opts
  return createChildPlanner({
    ...opts,
    kinds: ['relations waiting', 'relations copied', 'relations removed'],
    run: async ({ tx, streams, count, queue }) => {
      for (const origin of originsOf(mapping.related)) await tx.discover(mapping.id, streams, origin)
      for (const e of await tx.review(mapping.id, streams)) {
        const d = decideRelation(e, mapping.related)
        if (d.kind === 'keep' && e.state === 'waiting') count('relations waiting')
        // the same relation first seen on the other side: this link takes its place (its ends are unique)
        if ((d.kind === 'update' || d.kind === 'write') && d.alsoDelete !== undefined) await tx.remove(d.alsoDelete)
        if (d.kind === 'update') await tx.update(e.id, d.change)
        if (d.kind === 'delete') await tx.remove(e.id)
        if (d.kind !== 'write') continue
        const values = { related: d.ends.related, relatedStream: streams[d.target].stream }
        const req = { linkId: e.parentLinkId as number, target: d.target, op: d.op, remoteId: d.ends.parent, values }
        const outboxId = await queue(req, d.op === 'relate' ? 'relations copied' : 'relations removed')
        await tx.update(e.id, { ...d.change, outboxId })
      }
    },
  })
}
