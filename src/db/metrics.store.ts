import type { StreamRef } from '../engine/types.js'
import type { Sql } from './client.js'

/**
 * What the metrics read from the database at each scrape: the outbox backlog, open conflicts
 * and the health of each stream (the same on every replica, since it comes from the shared
 * database). Three small queries in one read-only transaction with a statement timeout.
 */
export interface StateSnapshot {
  /** Rows per unfinished state (`pending`, `failed`, `dead`), zero included. */
  outbox: Record<'pending' | 'failed' | 'dead', number>
  /** Age of the oldest row waiting to be pushed (pending or failed); null when there is none. */
  oldestPendingSeconds: number | null
  openConflicts: { mapping: string; count: number }[]
  streams: StreamHealth[]
}

export interface StreamHealth extends StreamRef {
  /** When the last successful run finished; null when none has. */
  lastSuccessAt: Date | null
  /** Seconds since then, by the database's clock. */
  lagSeconds: number | null
  /** Failed runs since the last successful one. */
  consecutiveFailures: number
}

export function createPgStateSource(sql: Sql, streams: readonly StreamRef[], timeoutMs: number): () => Promise<StateSnapshot> {
  return () =>
    sql.begin('read only', async (tx) => {
      await tx`select set_config('statement_timeout', ${String(timeoutMs)}, true)`
      const byState = await tx<{ state: 'pending' | 'failed' | 'dead'; n: number; oldest: number | null }[]>`
        select state, count(*)::int as n, extract(epoch from now() - min(created_at))::float8 as oldest
        from elsync.outbox where state in ('pending', 'failed', 'dead') group by state`
      const conflicts = await tx<{ mapping: string; count: number }[]>`
        select mapping_id as mapping, count(*)::int as count from elsync.field_conflicts where state = 'open' group by mapping_id order by mapping_id`
      const health = await tx<{ connection: string; stream: string; last_success_at: Date | null; lag: number | null; failures: number }[]>`
        select s.connection, s.stream, ok.finished_at as last_success_at,
          extract(epoch from now() - ok.finished_at)::float8 as lag,
          (select count(*) from elsync.sync_runs f
            where f.connection = s.connection and f.stream = s.stream and f.status = 'failed' and f.id > coalesce(ok.id, 0))::int as failures
        from unnest(${streams.map((s) => s.connection)}::text[], ${streams.map((s) => s.stream)}::text[]) as s(connection, stream)
        left join lateral (
          select r.id, r.finished_at from elsync.sync_runs r
          where r.connection = s.connection and r.stream = s.stream and r.status = 'succeeded'
          order by r.id desc limit 1) ok on true`
      const outbox = { pending: 0, failed: 0, dead: 0 }
      for (const r of byState) outbox[r.state] = r.n
      const waiting = byState.filter((r) => r.state !== 'dead' && r.oldest !== null).map((r) => r.oldest as number)
      return {
        outbox,
        oldestPendingSeconds: waiting.length > 0 ? Math.max(...waiting) : null,
        openConflicts: conflicts.map((c) => ({ mapping: c.mapping, count: c.count })),
        streams: health.map((h) => ({
          connection: h.connection,
          stream: h.stream,
          lastSuccessAt: h.last_success_at === null ? null : new Date(h.last_success_at),
          lagSeconds: h.lag,
          consecutiveFailures: h.failures,
        })),
      }
    })
}
