import { type ChildPlanner, type ChildStore, createChildPlanner, originsOf } from './children.plan.js'
import type { StreamRef } from './types.js'
import { otherSide, type MappingSpec, type OutboxRequest, type Side } from './write.types.js'

/**
 * Watchers of linked records, copied by email: a watcher of one side's record that the other
 * side's record does not show is added there once (`watch`). Each copy is remembered per link,
 * side and email, so a watcher someone removes from the copy is not added back, and a user the
 * target does not know is tried once: the push records it as skipped (`user_unknown`) and the
 * rest of the record goes on. Removing a watcher is not copied.
 */

export interface WatcherCandidate {
  linkId: number
  /** The record on the side the watcher is copied to. */
  targetRemoteId: string
  email: string
}

export interface WatcherTx {
  /** Watchers of `from`'s linked records that the other side's record neither shows nor was ever sent. */
  candidates(mappingId: string, streams: Record<Side, StreamRef>, from: Side): Promise<WatcherCandidate[]>
  /** Remembers a copy and the outbox row that makes it. */
  record(copy: { mappingId: string; linkId: number; target: Side; email: string; outboxId: number }): Promise<void>
  enqueue(req: OutboxRequest): Promise<number>
}

export type WatcherStore = ChildStore<WatcherTx>

export interface WatcherPlannerOptions {
  mapping: Pick<MappingSpec, 'id' | 'left' | 'right' | 'watchers'>
  store: WatcherStore
  planLine: (req: OutboxRequest) => string
}

export function createWatcherPlanner(opts: WatcherPlannerOptions): ChildPlanner {
  const { mapping } = opts
  return createChildPlanner({
    ...opts,
    kinds: ['watchers queued'],
    run: async ({ tx, streams, queue }) => {
      for (const from of originsOf(mapping.watchers)) {
        const target = otherSide(from)
        for (const c of await tx.candidates(mapping.id, streams, from)) {
          const req = { linkId: c.linkId, target, op: 'watch' as const, remoteId: c.targetRemoteId, values: { email: c.email } }
          const outboxId = await queue(req, 'watchers queued')
          await tx.record({ mappingId: mapping.id, linkId: c.linkId, target, email: c.email, outboxId })
        }
      }
    },
  })
}
