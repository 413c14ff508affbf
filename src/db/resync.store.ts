import type { ReadMode, StreamRef } from '../engine/types.js'
import type { Sql } from './client.js'

/**
 * The resync queue (`POST /v1/resync`): rows of `sync_runs` in status `queued`, so that the
 * run id an admin gets back is the run's own, and any replica's resync worker can pick it up.
 * A worker claims a queued run only while it holds the stream's lease (one statement that
 * succeeds once), so a resync waits behind a running run of its stream and runs once across
 * replicas; a claimed run whose process dies is marked abandoned by the stream's next run.
 */
export interface ResyncRequest {
  mode: ReadMode
  /** The window reaches back at least to here (incremental streams); null: from the stored cursor. */
  since: Date | null
}

export interface QueuedRun extends ResyncRequest {
  id: number
  stream: StreamRef
}

export interface ResyncQueue {
  /** One queued run per stream, in the order given; their ids. */
  enqueue(streams: readonly StreamRef[], req: ResyncRequest): Promise<number[]>
  /** The oldest queued run of each stream, oldest first. */
  due(limit: number): Promise<QueuedRun[]>
  /** Takes a queued run for this process; false when it is no longer queued (another replica took it). */
  claim(id: number): Promise<boolean>
  /** A queued run that cannot run (its stream is no longer configured): failed with the reason. */
  fail(id: number, message: string): Promise<void>
}

export function createPgResyncQueue(sql: Sql): ResyncQueue {
  return {
    async enqueue(streams, req) {
      if (streams.length === 0) return []
      const since = req.since?.toISOString() ?? null
      const rows = await sql<{ id: string }[]>`
        insert into elsync.sync_runs (connection, stream, mode, status, queued_at, since)
        select c, s, ${req.mode}, 'queued', now(), ${since}::timestamptz
        from unnest(${streams.map((s) => s.connection)}::text[], ${streams.map((s) => s.stream)}::text[]) with ordinality as t(c, s, n)
        order by n
        returning id`
      return rows.map((r) => Number(r.id)).sort((a, b) => a - b)
    },

    async due(limit) {
      const rows = await sql<{ id: string; connection: string; stream: string; mode: ReadMode; since: string | null }[]>`
        select distinct on (connection, stream) id, connection, stream, mode, to_json(since) #>> '{}' as since
        from elsync.sync_runs where status = 'queued'
        order by connection, stream, id`
      return rows
        .map((r) => ({
          id: Number(r.id),
          stream: { connection: r.connection, stream: r.stream },
          mode: r.mode,
          since: r.since === null ? null : new Date(r.since),
        }))
        .sort((a, b) => a.id - b.id)
        .slice(0, limit)
    },

    async claim(id) {
      const rows = await sql`update elsync.sync_runs set status = 'running', started_at = now() where id = ${id} and status = 'queued' returning 1`
      return rows.length > 0
    },

    async fail(id, message) {
      await sql`update elsync.sync_runs set status = 'failed', started_at = now(), finished_at = now(), error = ${message}
        where id = ${id} and status = 'queued'`
    },
  }
}
