import { MassDeleteRefusedError } from '../engine/errors.js'
import type { CompleteScanOptions, MirrorStore } from '../engine/ports.js'
import type { StreamRef } from '../engine/types.js'
import type { Sql } from './client.js'
import { isTransientDbError } from './transient.js'

/**
 * Deletion detection by full scan: a scan records the ids it saw (`scan_seen`, written by
 * `applyPage`); once it completes without error, live records it did not see are counted
 * as missed, and deleted after enough misses in a row, within the mass-delete guard.
 */

/** Deleting this many records or fewer never trips the mass-delete guard (small streams). */
export const MASS_DELETE_FLOOR = 3

export type ScanStore = Pick<MirrorStore, 'resetScan' | 'completeScan'>

export function createPgScanStore(sql: Sql): ScanStore {
  return {
    async completeScan(stream: StreamRef, runId: number, opts: CompleteScanOptions) {
      const threshold = opts.force ? 1 : Math.max(1, opts.missedScansToDelete ?? 1)
      const key = { c: stream.connection, s: stream.stream }
      const done = sql.begin(async (tx) => {
        // completing a scan twice must not count its misses twice: a retry after a commit whose
        // answer was lost (the connection dropped) finds this run already recorded and stops
        const [already] = await tx<{ done: boolean }[]>`
          select exists (select 1 from elsync.stream_state s join elsync.sync_runs r on r.id = ${runId}
            where s.connection = ${key.c} and s.stream = ${key.s} and s.last_full_scan_at = r.started_at) as done`
        if (already?.done) return { deleted: 0, live: 0, pending: 0 }
        const notSeen = tx`not exists (select 1 from elsync.scan_seen s where s.run_id = ${runId} and s.remote_id = r.remote_id)`
        const [counts] = await tx<{ live: number; gone: number; pending: number }[]>`
          select count(*)::int as live,
                 count(*) filter (where ${notSeen} and r.missed_scans + 1 >= ${threshold})::int as gone,
                 count(*) filter (where ${notSeen} and r.missed_scans + 1 < ${threshold})::int as pending
          from elsync.records r
          where r.connection = ${key.c} and r.stream = ${key.s} and r.deleted_at is null`
        const live = counts?.live ?? 0
        const gone = counts?.gone ?? 0
        if (!opts.force && gone > MASS_DELETE_FLOOR && gone > live * opts.maxDeleteFraction) {
          throw new MassDeleteRefusedError(stream, gone, live, opts.maxDeleteFraction)
        }
        // seen again after a miss: the count starts over (only rows that had missed are written)
        await tx`update elsync.records r set missed_scans = 0
          where r.connection = ${key.c} and r.stream = ${key.s} and r.deleted_at is null and r.missed_scans > 0 and not ${notSeen}`
        if (counts?.pending) {
          await tx`update elsync.records r set missed_scans = r.missed_scans + 1
            where r.connection = ${key.c} and r.stream = ${key.s} and r.deleted_at is null and ${notSeen} and r.missed_scans + 1 < ${threshold}`
        }
        if (gone > 0) {
          await tx`
            with gone as (
              update elsync.records r set deleted_at = now(), version = r.version + 1, missed_scans = 0
              where r.connection = ${key.c} and r.stream = ${key.s} and r.deleted_at is null
                and ${notSeen} and r.missed_scans + 1 >= ${threshold}
              returning r.id, r.remote_id, r.version, r.deleted_at
            )
            insert into elsync.record_changes (record_id, connection, stream, remote_id, version, op, changed, source, run_id)
            select id, ${key.c}, ${key.s}, remote_id, version, 'delete',
                   jsonb_build_object('deleted_at', jsonb_build_object('old', null, 'new', to_jsonb(deleted_at))), ${opts.source ?? 'poll'}, ${runId}
            from gone`
        }
        await tx`
          insert into elsync.stream_state (connection, stream, last_full_scan_at)
          select ${key.c}, ${key.s}, started_at from elsync.sync_runs where id = ${runId}
          on conflict (connection, stream) do update set last_full_scan_at = excluded.last_full_scan_at`
        return { deleted: gone, live, pending: counts?.pending ?? 0 }
      }) as Promise<{ deleted: number; live: number; pending: number }>
      // once the outcome is known (completed, or a refused mass delete) the membership rows are no
      // longer needed; after a dropped connection they are kept for the retry (the next run of the
      // stream removes them in any case)
      const forget = () => sql`delete from elsync.scan_seen where run_id = ${runId}`.catch(() => {})
      return done.then(
        async (result) => (await forget(), result),
        async (err: unknown) => {
          if (!isTransientDbError(err)) await forget()
          throw err
        },
      )
    },

    async resetScan(runId: number): Promise<void> {
      await sql`delete from elsync.scan_seen where run_id = ${runId}`
    },
  }
}
