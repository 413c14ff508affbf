import type { MirrorStore, RunSummary } from '../engine/ports.js'
import type { ReadMode, StreamRef } from '../engine/types.js'
import type { Sql } from './client.js'

/** Bookkeeping of stream runs (`sync_runs`): one row per run, opened before its first page and closed with its summary. */
export type RunStore = Pick<MirrorStore, 'startRun' | 'finishRun'>

export function createPgRunStore(sql: Sql): RunStore {
  return {
    async startRun(stream: StreamRef, mode: ReadMode, queuedRunId?: number): Promise<number> {
      // a queued run (an admin's resync) was claimed by its worker: it starts now, in the mode it runs in
      const [row] =
        queuedRunId === undefined
          ? await sql<{ id: string }[]>`
              insert into elsync.sync_runs (connection, stream, mode, status) values (${stream.connection}, ${stream.stream}, ${mode}, 'running')
              returning id`
          : await sql<{ id: string }[]>`
              update elsync.sync_runs set status = 'running', mode = ${mode}, started_at = now()
              where id = ${queuedRunId} and connection = ${stream.connection} and stream = ${stream.stream}
              returning id`
      const id = Number(row?.id)
      // The caller holds the stream's lock, so any other run still marked running died
      // (crash, kill -9, shutdown timeout): mark it abandoned and drop its scan membership.
      // (A queued run may start with an id below theirs.)
      await sql`update elsync.sync_runs set status = 'abandoned', finished_at = now(), error = 'process ended before the run finished'
        where connection = ${stream.connection} and stream = ${stream.stream} and status = 'running' and id <> ${id}`
      await sql`delete from elsync.scan_seen where run_id in (
        select id from elsync.sync_runs where connection = ${stream.connection} and stream = ${stream.stream} and id <> ${id})`
      return id
    },

    async finishRun(runId: number, s: RunSummary): Promise<void> {
      await sql`
        update elsync.sync_runs set status = ${s.status}, finished_at = now(),
          duration_ms = (extract(epoch from now() - started_at) * 1000)::int,
          pages = ${s.pages}, records_seen = ${s.recordsSeen}, records_changed = ${s.recordsChanged},
          records_deleted = ${s.recordsDeleted}, requests = ${s.requests}, error = ${s.error ?? null},
          quarantined = ${s.quarantined ?? 0}, children_stale = ${s.childrenStale ?? 0}
        where id = ${runId}`
    },
  }
}

// ------------------------------------------------------------------ the admin's view of runs

/** One run as the admin API shows it; times are ISO 8601. */
export interface RunView {
  id: number
  connection: string
  stream: string
  mode: string
  /** queued | running | succeeded | failed | interrupted | abandoned */
  state: string
  queuedAt: string | null
  startedAt: string | null
  finishedAt: string | null
  durationMs: number | null
  pages: number
  records: { seen: number; changed: number; deleted: number }
  requests: number
  quarantined: number
  childrenStale: number
  /** A resync's `since`. */
  since: string | null
  error: string | null
}

interface RunRow {
  id: string
  connection: string
  stream: string
  mode: string
  status: string
  queued_at: string | null
  started_at: string | null
  finished_at: string | null
  duration_ms: number | null
  pages: number
  records_seen: number
  records_changed: number
  records_deleted: number
  requests: number
  quarantined: number
  children_stale: number
  since: string | null
  error: string | null
}

// to_json: ISO 8601 text, whichever timestamp parser the pool has
const RUN_COLUMNS = `id, connection, stream, mode, status, to_json(queued_at) #>> '{}' as queued_at,
  case when status = 'queued' then null else to_json(started_at) #>> '{}' end as started_at, to_json(finished_at) #>> '{}' as finished_at,
  duration_ms, pages, records_seen, records_changed, records_deleted, requests, quarantined, children_stale,
  to_json(since) #>> '{}' as since, error`

const toRunView = (r: RunRow): RunView => ({
  id: Number(r.id),
  connection: r.connection,
  stream: r.stream,
  mode: r.mode,
  state: r.status,
  queuedAt: r.queued_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  durationMs: r.duration_ms,
  pages: r.pages,
  records: { seen: r.records_seen, changed: r.records_changed, deleted: r.records_deleted },
  requests: r.requests,
  quarantined: r.quarantined,
  childrenStale: r.children_stale,
  since: r.since,
  error: r.error,
})

export interface RunQuery {
  connection?: string
  stream?: string
  limit: number
}

/** The latest runs, newest first. */
export async function listRuns(sql: Sql, q: RunQuery): Promise<RunView[]> {
  const rows = await sql<RunRow[]>`
    select ${sql.unsafe(RUN_COLUMNS)} from elsync.sync_runs
    where (${q.connection ?? null}::text is null or connection = ${q.connection ?? null})
      and (${q.stream ?? null}::text is null or stream = ${q.stream ?? null})
    order by id desc limit ${q.limit}`
  return rows.map(toRunView)
}

export async function findRun(sql: Sql, id: number): Promise<RunView | null> {
  const [row] = await sql<RunRow[]>`select ${sql.unsafe(RUN_COLUMNS)} from elsync.sync_runs where id = ${id}`
  return row ? toRunView(row) : null
}
