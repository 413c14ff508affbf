import type { ChildPlanner } from './children.plan.js'
import { toSyncError } from './errors.js'
import { bindNewLink, reconcileRecord, scopesOf, type ReconcileOutcome } from './merge.js'
import type { ChangeFeed, FeedChange, FeedOffset } from './ports.js'
import { createMarkerFormat } from './attribution.js'
import { streamOf, type SideCatalogs } from './project.js'
import { planLine, type PlanInfo } from './reconcile.plan.js'
import { commentSources, copyComments } from './children.comments.js'
import type { StreamRef } from './types.js'
import { resolveValueMaps, type LookupSource } from './value-maps.js'
import {
  otherSide,
  type ConflictRecord,
  type MappingSpec,
  type MirroredRecord,
  type OutboxRequest,
  type ReconcileTx,
  type ReconcileStore,
  type Side,
} from './write.types.js'

export { planLine, type PlanInfo } from './reconcile.plan.js'

/**
 * One mapping's reconcile: follows the change log of its two streams from the mapping's
 * stored offset, a batch at a time. Each batch is one store transaction: links found or
 * created, writes queued, conflicts recorded and the new offset saved commit together,
 * so a crash replays the batch whole (and replaying it plans nothing new: the base moved).
 * A dry run plans every batch in one transaction that is rolled back.
 */

export interface ReconcileMappingOptions {
  /** Its `valuesFrom` tables are read from `lookups` when the run starts. */
  mapping: MappingSpec
  lookups?: LookupSource
  feed: ChangeFeed
  store: ReconcileStore
  catalogs: SideCatalogs
  batchSize: number
  dryRun?: boolean
  now?: () => Date
  /** Checked between batches. */
  signal?: AbortSignal
  hooks?: ReconcileHooks
  /** Child objects of links (attachments, related items, watchers), planned once the change log is read: links made in this pass count. */
  childPlanners?: readonly ChildPlanner[]
  /** The name each side's system goes by in a copied comment's footer (`via Elean`); default the connection's name. */
  systems?: Record<Side, string>
}

export interface ReconcileHooks {
  /** Crash tests' point (issue 9): after each record of a batch, before the batch commits; `handled` counts the batch's records so far. */
  afterRecord?(handled: number): void | Promise<void>
}

/** A record (or one of its fields) that could not be reconciled; the rest of the batch goes on. */
export interface ReconcileErrorEntry {
  stream: StreamRef
  remoteId: string
  field?: string
  code: string
  message: string
}

export interface ReconcileSummary {
  /** Change rows read. */
  changes: number
  /** Distinct records reconciled. */
  records: number
  linksCreated: number
  requests: OutboxRequest[]
  /** One line per request (`planLine`), for `--dry-run` and the plan endpoint. */
  plan: string[]
  conflicts: (ConflictRecord & { linkId: number })[]
  errors: ReconcileErrorEntry[]
  /** What the child planners counted (`relations waiting`, `watchers queued`, …). */
  children?: Record<string, number>
}

const recordKey = (s: StreamRef, remoteId: string): string => `${s.connection}\u0000${s.stream}\u0000${remoteId}`
const displayKey = (r: MirroredRecord | null, fallback: string | null): string | null => r?.snapshot.external_key ?? r?.remoteId ?? fallback

export async function reconcileMapping(opts: ReconcileMappingOptions): Promise<ReconcileSummary> {
  const { feed, store, catalogs, batchSize } = opts
  const mapping = await resolveValueMaps(opts.mapping, opts.lookups, opts.signal ?? new AbortController().signal)
  const now = opts.now ?? (() => new Date())
  const scope = scopesOf(mapping, catalogs)
  const streams: Record<Side, StreamRef> = { left: streamOf(mapping, 'left'), right: streamOf(mapping, 'right') }
  const markerFormat = createMarkerFormat(mapping.marker)
  const summary: ReconcileSummary = { changes: 0, records: 0, linksCreated: 0, requests: [], plan: [], conflicts: [], errors: [] }

  const sideOf = (c: FeedChange): Side | null => {
    for (const side of ['left', 'right'] as const) if (streams[side].connection === c.connection && streams[side].stream === c.stream) return side
    return null
  }

  /** One record: its link, both records, the merge, and what it decided, written in `tx`. */
  async function reconcileOne(tx: ReconcileTx, side: Side, remoteId: string, done: Set<number>): Promise<void> {
    const other = otherSide(side)
    const link = await tx.findLink(mapping.id, side, remoteId)
    // both records of a link changed in this batch: the first one's merge saw both
    if (link && done.has(link.id)) return
    const record = await tx.loadRecord(streams[side], remoteId)
    if (!link && record && (await adoptCreated(tx, side, record, done))) return
    const otherId = link ? (other === 'left' ? link.leftRemoteId : link.rightRemoteId) : null
    const counterpart = otherId === null ? null : await tx.loadRecord(streams[other], otherId)
    const pair = side === 'left' ? { left: record, right: counterpart } : { left: counterpart, right: record }
    let outcome: ReconcileOutcome
    try {
      outcome = reconcileRecord({ mapping, link, ...pair, catalogs, now: now(), scope })
    } catch (err) {
      // a fault in one record's merge (a catalog that throws) must not stop the mapping
      const e = toSyncError(err)
      summary.errors.push({ stream: streams[side], remoteId, code: e.code, message: e.message })
      return
    }
    summary.records += 1
    let linkId = link?.id
    let requests = outcome.requests
    if (outcome.link?.kind === 'create') {
      const created = await tx.createLink(mapping.id, outcome.link.init)
      requests = bindNewLink(outcome, created, mapping)
      linkId = created.id
      summary.linksCreated += 1
    } else if (outcome.link?.kind === 'update') await tx.updateLink(outcome.link.link)
    if (linkId === undefined) return
    done.add(linkId)
    for (const r of requests) {
      await tx.enqueue(r)
      summary.requests.push(r)
      const target = r.target === side ? record : counterpart
      const info: PlanInfo = { mapping, source: { connection: streams[side].connection, key: displayKey(record, remoteId) ?? remoteId } }
      if (r.op === 'create') info.title = record?.snapshot.title ?? null
      else info.targetKey = displayKey(target, r.remoteId)
      summary.plan.push(planLine(r, info))
    }
    for (const c of outcome.conflicts) {
      await tx.recordConflict(linkId, mapping.id, c)
      summary.conflicts.push({ ...c, linkId })
    }
    for (const d of outcome.decisions) {
      if (!d.error) continue
      const at = d.target ? otherSide(d.target) : side
      const id = (at === side ? record?.remoteId : counterpart?.remoteId) ?? remoteId
      summary.errors.push({ stream: streams[at], remoteId: id, field: d.field, code: d.error.code, message: d.error.message })
    }
  }

  /**
   * A record that carries this mapping's create marker is one a push of ours created. When the
   * push's bookkeeping has not reached its link yet (a crash between the create and marking it
   * sent, or a poll that read the record first), the record is bound to that link here rather
   * than taken for a new record, which would be created on the other side a second time.
   */
  async function adoptCreated(tx: ReconcileTx, side: Side, record: MirroredRecord, done: Set<number>): Promise<boolean> {
    const linkId = markerLinkId(record.document)
    if (linkId === null) return false
    const link = await tx.findLinkById(mapping.id, linkId)
    const current = link ? (side === 'left' ? link.leftRemoteId : link.rightRemoteId) : undefined
    if (!link || (current !== null && current !== record.remoteId)) return false
    await tx.updateLink({ ...link, state: 'linked', ...(side === 'left' ? { leftRemoteId: record.remoteId } : { rightRemoteId: record.remoteId }) })
    done.add(link.id)
    summary.records += 1
    return true
  }

  /** The link id of this mapping's create marker, found at the end of any text of the document (its description). */
  function markerLinkId(document: unknown): number | null {
    const texts: string[] = []
    const collect = (v: unknown, depth: number): void => {
      if (typeof v === 'string') texts.push(v)
      else if (depth < 2 && v !== null && typeof v === 'object') for (const x of Object.values(v)) collect(x, depth + 1)
    }
    collect(document, 0)
    for (const t of texts) {
      const m = markerFormat.parse(t)
      if (m && m.mapping === mapping.id && /^\d+$/.test(m.link)) return Number(m.link)
    }
    return null
  }

  /** One batch of the feed from `after`; returns where it ended and how many changes it held. */
  async function batch(tx: ReconcileTx, after: FeedOffset | null): Promise<{ next: FeedOffset | null; read: number }> {
    const page = await feed.read({ after, limit: batchSize, streams: [streams.left, streams.right] })
    summary.changes += page.changes.length
    const seen = new Map<string, { side: Side; remoteId: string }>()
    for (const c of page.changes) {
      const side = sideOf(c)
      if (side) seen.set(recordKey(streams[side], c.remoteId), { side, remoteId: c.remoteId })
    }
    const done = new Set<number>()
    let handled = 0
    for (const { side, remoteId } of seen.values()) {
      await reconcileOne(tx, side, remoteId, done)
      await opts.hooks?.afterRecord?.(++handled)
    }
    if (page.changes.length > 0) await tx.saveOffset(mapping.id, page.next)
    return { next: page.next, read: page.changes.length }
  }

  // comments of linked records, after the records: links the batches created are seen
  const copiesComments = commentSources(mapping.comments).length > 0
  const systems = opts.systems ?? { left: streams.left.connection, right: streams.right.connection }
  const comments = async (tx: ReconcileTx): Promise<void> => {
    if (!copiesComments || opts.signal?.aborted) return
    for (const c of await copyComments(tx, { mapping, streams, systems })) {
      summary.requests.push(c.request)
      summary.plan.push(c.line)
    }
  }

  let after = await store.offset(mapping.id)
  if (opts.dryRun) {
    await store.transaction(
      async (tx) => {
        for (let more = true; more && !opts.signal?.aborted; ) {
          const b = await batch(tx, after)
          after = b.next
          more = b.read >= batchSize
        }
        await comments(tx)
      },
      { rollback: true },
    )
    return planChildren(summary, opts)
  }
  for (let more = true; more && !opts.signal?.aborted; ) {
    const b = await store.transaction((tx) => batch(tx, after))
    after = b.next
    more = b.read >= batchSize
  }
  if (copiesComments) await store.transaction(comments)
  return planChildren(summary, opts)
}

async function planChildren(summary: ReconcileSummary, opts: ReconcileMappingOptions): Promise<ReconcileSummary> {
  for (const planner of opts.childPlanners ?? []) {
    if (opts.signal?.aborted) break
    const p = await planner({ dryRun: opts.dryRun === true })
    summary.requests.push(...p.requests)
    summary.plan.push(...p.plan)
    summary.children = { ...summary.children, ...p.counts }
  }
  return summary
}
