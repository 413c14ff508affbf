import { MassDeleteRefusedError } from '../engine/errors.js'
import type { ApplyOptions, ApplyResult, CompleteScanOptions, MirrorStore, RunSummary } from '../engine/ports.js'
import { diffSnapshots, toMirrorRow, type MirrorRow, type SanitizeReport, type Snapshot } from '../engine/record.js'
import type { ChangeOp, Cursor, Page, ReadMode, StreamRef } from '../engine/types.js'
import { applyChildren } from './children.store.js'
import type { Sql, Tx } from './client.js'

/** Deleting this many records or fewer never trips the mass-delete guard (small streams). */
export const MASS_DELETE_FLOOR = 3

interface ExistingRow {
  id: string
  remote_id: string
  content_hash: string
  version: number
  deleted: boolean
  snapshot: Snapshot
}

interface PlannedWrite {
  row: MirrorRow
  version: number
  op: ChangeOp
  changed: Record<string, unknown>
}

/** Plans the writes of one page against the rows it already has (pure). */
function plan(rows: MirrorRow[], existing: Map<string, ExistingRow>): { writes: PlannedWrite[]; unchanged: number } {
  const writes: PlannedWrite[] = []
  let unchanged = 0
  for (const row of rows) {
    const old = existing.get(row.remoteId)
    if (old && !old.deleted && old.content_hash === row.contentHash) {
      unchanged += 1
      continue
    }
    const op: ChangeOp = !old ? 'insert' : old.deleted ? 'restore' : 'update'
    writes.push({ row, version: (old?.version ?? 0) + 1, op, changed: diffSnapshots(old?.snapshot ?? null, row.snapshot) })
  }
  return { writes, unchanged }
}

/** The last occurrence of an id in a page wins (offset paging repeats rows). */
function dedupe(rows: MirrorRow[]): MirrorRow[] {
  const byId = new Map<string, MirrorRow>()
  for (const row of rows) byId.set(row.remoteId, row)
  return [...byId.values()]
}

async function upsertRecords(tx: Tx, stream: StreamRef, writes: PlannedWrite[]): Promise<Map<string, string>> {
  if (writes.length === 0) return new Map()
  const rows = await tx<{ id: string; remote_id: string }[]>`
    insert into elsync.records as r (connection, stream, remote_id, external_key, title, status, status_category,
      priority, due_at, description, assignees, fields, remote_created_at, remote_updated_at,
      snapshot, document, content_hash, version)
    select ${stream.connection}, ${stream.stream}, u.remote_id,
      u.snap->>'external_key', u.snap->>'title', u.snap->>'status', u.snap->>'status_category',
      u.snap->>'priority', (u.snap->>'due_at')::timestamptz, u.snap->>'description',
      u.snap->'assignees', u.snap->'fields',
      (u.snap->>'remote_created_at')::timestamptz, (u.snap->>'remote_updated_at')::timestamptz,
      u.snap, u.doc, u.hash, u.version
    from (
      select remote_id, snap::jsonb as snap, doc::jsonb as doc, hash, version
      from unnest(${writes.map((w) => w.row.remoteId)}::text[], ${writes.map((w) => JSON.stringify(w.row.snapshot))}::text[],
                  ${writes.map((w) => JSON.stringify(w.row.document))}::text[], ${writes.map((w) => w.row.contentHash)}::text[],
                  ${writes.map((w) => w.version)}::int[])
        as t(remote_id, snap, doc, hash, version)
    ) u
    on conflict (connection, stream, remote_id) do update set
      external_key = excluded.external_key, title = excluded.title, status = excluded.status,
      status_category = excluded.status_category, priority = excluded.priority, due_at = excluded.due_at,
      description = excluded.description, assignees = excluded.assignees, fields = excluded.fields,
      remote_created_at = excluded.remote_created_at, remote_updated_at = excluded.remote_updated_at,
      snapshot = excluded.snapshot, document = excluded.document, content_hash = excluded.content_hash,
      version = excluded.version, last_seen_at = now(), deleted_at = null, missed_scans = 0
    returning id, remote_id`
  return new Map(rows.map((r) => [r.remote_id, r.id]))
}

async function appendChanges(tx: Tx, stream: StreamRef, writes: PlannedWrite[], ids: Map<string, string>, source: string): Promise<void> {
  if (writes.length === 0) return
  await tx`
    insert into elsync.record_changes (record_id, connection, stream, remote_id, version, op, changed, source)
    select t.record_id, ${stream.connection}, ${stream.stream}, t.remote_id, t.version, t.op, t.changed::jsonb, ${source}
    from unnest(${writes.map((w) => ids.get(w.row.remoteId) as string)}::bigint[], ${writes.map((w) => w.row.remoteId)}::text[],
                ${writes.map((w) => w.version)}::int[], ${writes.map((w) => w.op)}::text[],
                ${writes.map((w) => JSON.stringify(w.changed))}::text[])
      as t(record_id, remote_id, version, op, changed)`
}

async function saveCursor(tx: Tx, stream: StreamRef, cursor: Cursor): Promise<void> {
  await tx`
    insert into elsync.stream_state (connection, stream, cursor) values (${stream.connection}, ${stream.stream}, ${JSON.stringify(cursor ?? null)}::jsonb)
    on conflict (connection, stream) do update set cursor = excluded.cursor, updated_at = now()
    where elsync.stream_state.cursor is distinct from excluded.cursor`
}

export interface PgMirrorOptions {
  /** Test hook: called after each step of `applyPage` inside its transaction. */
  afterStep?: (step: 'existing' | 'records' | 'changes' | 'scan' | 'children' | 'cursor') => void | Promise<void>
}

export function createPgMirror(sql: Sql, options: PgMirrorOptions = {}): MirrorStore {
  const step = async (name: Parameters<NonNullable<PgMirrorOptions['afterStep']>>[0]) => options.afterStep?.(name)
  return {
    async applyPage(stream: StreamRef, page: Page, opts: ApplyOptions = {}): Promise<ApplyResult> {
      const report: SanitizeReport = { nulBytesStripped: 0 }
      const rows = dedupe(page.records.map((r) => toMirrorRow(r, report)))
      return sql.begin(async (tx) => {
        const existing = await tx<ExistingRow[]>`
          select id, remote_id, content_hash, version, deleted_at is not null as deleted, snapshot
          from elsync.records
          where connection = ${stream.connection} and stream = ${stream.stream} and remote_id = any(${rows.map((r) => r.remoteId)}::text[])
          for update`
        await step('existing')
        const { writes, unchanged } = plan(rows, new Map(existing.map((e) => [e.remote_id, e])))
        const ids = await upsertRecords(tx, stream, writes)
        await step('records')
        await appendChanges(tx, stream, writes, ids, opts.source ?? 'poll')
        await step('changes')
        if (opts.scanRunId !== undefined && rows.length > 0) {
          await tx`insert into elsync.scan_seen (run_id, remote_id)
            select ${opts.scanRunId}, unnest(${rows.map((r) => r.remoteId)}::text[]) on conflict do nothing`
        }
        await step('scan')
        report.nulBytesStripped += await applyChildren(tx, stream, page)
        await step('children')
        if (page.cursor !== undefined) await saveCursor(tx, stream, page.cursor)
        await step('cursor')
        const count = (op: ChangeOp) => writes.filter((w) => w.op === op).length
        return {
          seen: rows.length,
          inserted: count('insert'),
          updated: count('update'),
          restored: count('restore'),
          unchanged,
          changes: writes.length,
          nulBytesStripped: report.nulBytesStripped,
        }
      }) as Promise<ApplyResult>
    },

    async completeScan(stream: StreamRef, runId: number, opts: CompleteScanOptions) {
      const threshold = opts.force ? 1 : Math.max(1, opts.missedScansToDelete ?? 1)
      const key = { c: stream.connection, s: stream.stream }
      const done = sql.begin(async (tx) => {
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
            insert into elsync.record_changes (record_id, connection, stream, remote_id, version, op, changed, source)
            select id, ${key.c}, ${key.s}, remote_id, version, 'delete',
                   jsonb_build_object('deleted_at', jsonb_build_object('old', null, 'new', to_jsonb(deleted_at))), ${opts.source ?? 'poll'}
            from gone`
        }
        await tx`
          insert into elsync.stream_state (connection, stream, last_full_scan_at)
          select ${key.c}, ${key.s}, started_at from elsync.sync_runs where id = ${runId}
          on conflict (connection, stream) do update set last_full_scan_at = excluded.last_full_scan_at`
        return { deleted: gone, live, pending: counts?.pending ?? 0 }
      }) as Promise<{ deleted: number; live: number; pending: number }>
      // the scan is over either way: its membership rows are no longer needed
      return done.finally(() => sql`delete from elsync.scan_seen where run_id = ${runId}`)
    },

    async resetScan(runId: number): Promise<void> {
      await sql`delete from elsync.scan_seen where run_id = ${runId}`
    },

    async getCursor(stream: StreamRef): Promise<Cursor | null> {
      const rows = await sql<{ cursor: Cursor }[]>`
        select cursor from elsync.stream_state where connection = ${stream.connection} and stream = ${stream.stream}`
      return rows[0]?.cursor ?? null
    },

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
          records_deleted = ${s.recordsDeleted}, requests = ${s.requests}, error = ${s.error ?? null}
        where id = ${runId}`
    },
  }
}
