import type { MirrorStore, RunSummary } from '../engine/ports.js'
import type { ReadMode, StreamRef } from '../engine/types.js'
import type { Sql } from './client.js'

/** Bookkeeping of stream runs (`sync_runs`): one row per run, opened before its first page and closed with its summary. */
export type RunStore = Pick<MirrorStore, 'startRun' | 'finishRun'>

export function createPgRunStore(sql: Sql): RunStore {
  return {
    async startRun(stream: StreamRef, mode: ReadMode): Promise<number> {
      const [row] = await sql<{ id: string }[]>`
        insert into elsync.sync_runs (connection, stream, mode, status) values (${stream.connection}, ${stream.stream}, ${mode}, 'running')
        returning id`
      const id = Number(row?.id)
      // The caller holds the stream's lock, so an earlier run still marked running died
      // (crash, kill -9, shutdown timeout): mark it abandoned and drop its scan membership.
      await sql`update elsync.sync_runs set status = 'abandoned', finished_at = now(), error = 'process ended before the run finished'
        where connection = ${stream.connection} and stream = ${stream.stream} and status = 'running' and id < ${id}`
      await sql`delete from elsync.scan_seen where run_id in (
        select id from elsync.sync_runs where connection = ${stream.connection} and stream = ${stream.stream} and id < ${id})`
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
