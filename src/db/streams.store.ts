import type { StreamRef } from '../engine/types.js'
import type { Sql } from './client.js'

/**
 * The state of each stream at a glance (`GET /v1/streams`): its cursor, its last run, how long
 * since it last succeeded, and how many runs in a row failed since — what an alert rule needs
 * to see a daemon whose every connection fails.
 */
export interface StreamStatus {
  connection: string
  stream: string
  /** The stored cursor (the connector's own shape), null before the first complete read. */
  cursor: unknown
  lastRun: { id: number; state: string; mode: string; startedAt: string; finishedAt: string | null; error: string | null } | null
  lastSuccessAt: string | null
  /** Seconds since the last successful run finished; null when none has. */
  lagSeconds: number | null
  /** The latest error since the last successful run; null once a run succeeds. */
  lastError: string | null
  /** Runs since the last successful one that failed or died (`failed`, `abandoned`); interrupted runs (a shutdown) do not count. */
  consecutiveFailures: number
  /** Resyncs waiting for this stream. */
  queuedResyncs: number
  /** A replica holds the stream's lease: a run is in progress. */
  running: boolean
}

interface StatusRow {
  connection: string
  stream: string
  cursor: unknown
  last_id: string | null
  last_status: string | null
  last_mode: string | null
  last_started_at: string | null
  last_finished_at: string | null
  last_error: string | null
  last_success_at: string | null
  lag_seconds: number | null
  error_since_success: string | null
  consecutive_failures: number
  queued: number
  running: boolean
}

/** One row per given stream, in the given order (streams never run have empty state). */
export async function streamStatuses(sql: Sql, streams: readonly StreamRef[]): Promise<StreamStatus[]> {
  if (streams.length === 0) return []
  const rows = await sql<StatusRow[]>`
    select s.connection, s.stream, st.cursor,
      last.id as last_id, last.status as last_status, last.mode as last_mode, to_json(last.started_at) #>> '{}' as last_started_at,
      to_json(last.finished_at) #>> '{}' as last_finished_at, last.error as last_error,
      to_json(ok.finished_at) #>> '{}' as last_success_at, extract(epoch from now() - ok.finished_at)::float8 as lag_seconds,
      (select e.error from elsync.sync_runs e
        where e.connection = s.connection and e.stream = s.stream and e.error is not null and e.id > coalesce(ok.id, 0)
        order by e.id desc limit 1) as error_since_success,
      (select count(*) from elsync.sync_runs f
        where f.connection = s.connection and f.stream = s.stream and f.status in ('failed', 'abandoned') and f.id > coalesce(ok.id, 0))::int
        as consecutive_failures,
      (select count(*) from elsync.sync_runs q where q.connection = s.connection and q.stream = s.stream and q.status = 'queued')::int as queued,
      coalesce(l.owner is not null and l.expires_at > now(), false) as running
    from unnest(${streams.map((s) => s.connection)}::text[], ${streams.map((s) => s.stream)}::text[]) with ordinality as s(connection, stream, n)
    left join elsync.stream_state st on st.connection = s.connection and st.stream = s.stream
    left join elsync.stream_leases l on l.connection = s.connection and l.stream = s.stream
    left join lateral (
      select r.id, r.finished_at from elsync.sync_runs r
      where r.connection = s.connection and r.stream = s.stream and r.status = 'succeeded'
      order by r.id desc limit 1) ok on true
    left join lateral (
      select r.id, r.status, r.mode, r.started_at, r.finished_at, r.error from elsync.sync_runs r
      where r.connection = s.connection and r.stream = s.stream and r.status <> 'queued'
      order by r.id desc limit 1) last on true
    order by s.n`
  return rows.map((r) => ({
    connection: r.connection,
    stream: r.stream,
    cursor: r.cursor ?? null,
    lastRun:
      r.last_id === null
        ? null
        : {
            id: Number(r.last_id),
            state: r.last_status ?? '',
            mode: r.last_mode ?? '',
            startedAt: r.last_started_at ?? '',
            finishedAt: r.last_finished_at,
            error: r.last_error,
          },
    lastSuccessAt: r.last_success_at,
    lagSeconds: r.lag_seconds === null ? null : Math.round(r.lag_seconds * 1000) / 1000,
    lastError: r.error_since_success,
    consecutiveFailures: r.consecutive_failures,
    queuedResyncs: r.queued,
    running: r.running,
  }))
}
