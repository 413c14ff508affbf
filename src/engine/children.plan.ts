import type { StreamRef } from './types.js'
import type { MappingSpec, OutboxRequest, Side, SyncDirection } from './write.types.js'

/**
 * What the planners of a link's children (related items, watchers) share: they run after
 * reconcile has read the change log, each in a transaction of its own (rolled back in a dry
 * run), and report what they queued in reconcile's summary.
 */

/** What a planning pass did, for the reconcile summary and the command line. */
export interface ChildPlan {
  requests: OutboxRequest[]
  /** One line per queued write, as `planLine` prints them. */
  plan: string[]
  /** Counts by kind (`relations waiting`, `watchers queued`, …), for the summary line. */
  counts: Record<string, number>
}

export type ChildPlanner = (opts: { dryRun: boolean }) => Promise<ChildPlan>

/** The sides a direction copies from. */
export function originsOf(direction: SyncDirection | undefined): Side[] {
  if (direction === 'both') return ['left', 'right']
  if (direction === 'left-to-right') return ['left']
  if (direction === 'right-to-left') return ['right']
  return []
}

export interface ChildStore<Tx> {
  transaction<T>(fn: (tx: Tx) => Promise<T>, opts?: { rollback?: boolean }): Promise<T>
}

/** A planning pass's tools: the mapping's streams, and `queue`, which enqueues a write and reports it. */
export interface PlanContext<Tx> {
  tx: Tx
  streams: Record<Side, StreamRef>
  out: ChildPlan
  count(kind: string): void
  /** Enqueues a child write of a link (no field decisions behind it) and reports it under `kind`; the outbox row's id. */
  queue(req: Omit<OutboxRequest, 'mappingId' | 'stream' | 'decisions'>, kind: string): Promise<number>
}

export function createChildPlanner<Tx extends { enqueue(req: OutboxRequest): Promise<number> }>(opts: {
  mapping: Pick<MappingSpec, 'id' | 'left' | 'right'>
  store: ChildStore<Tx>
  planLine: (req: OutboxRequest) => string
  /** The kinds counted, reported as 0 when nothing happened. */
  kinds: readonly string[]
  run: (ctx: PlanContext<Tx>) => Promise<void>
}): ChildPlanner {
  const { mapping } = opts
  const streams: Record<Side, StreamRef> = {
    left: { connection: mapping.left.connection, stream: mapping.left.stream },
    right: { connection: mapping.right.connection, stream: mapping.right.stream },
  }
  return ({ dryRun }) =>
    opts.store.transaction(
      async (tx) => {
        const out: ChildPlan = { requests: [], plan: [], counts: Object.fromEntries(opts.kinds.map((k) => [k, 0])) }
        const count = (kind: string): void => {
          out.counts[kind] = (out.counts[kind] ?? 0) + 1
        }
        await opts.run({
          tx,
          streams,
          out,
          count,
          async queue(partial, kind) {
            const req: OutboxRequest = { ...partial, mappingId: mapping.id, stream: streams[partial.target], decisions: [] }
            const id = await tx.enqueue(req)
            out.requests.push(req)
            out.plan.push(opts.planLine(req))
            count(kind)
            return id
          },
        })
        return out
      },
      { rollback: dryRun },
    )
}
