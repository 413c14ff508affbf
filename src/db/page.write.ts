import type { ApplyOptions } from '../engine/ports.js'
import type { PagePlan } from '../engine/plan.js'
import { actorOf } from '../engine/record.js'
import type { Cursor, StreamRef } from '../engine/types.js'
import type { Tx } from './client.js'

/**
 * Everything a page writes that depends only on its plan, as one statement: the records
 * upserted, their history appended, the scan membership, the quarantine released for ids that
 * arrived in good shape, and the cursor. One round trip instead of five matters more than any
 * single part of it (issue 13: the page's time went to waiting, in Postgres and on the wire).
 *
 * The rows travel as one JSON document (`jsonb_to_recordset`) rather than as parallel arrays:
 * a text array of JSON documents has every quote escaped by the driver and unescaped by the
 * server, which cost more than the upsert itself.
 */
export interface PageWrite {
  plan: PagePlan
  /** Ids the page brought, and those quarantined with an id: what a full scan has seen. */
  seen: readonly string[]
  /** Ids that arrived as good records: their quarantine rows go, except `requarantined` ones. */
  goodIds: readonly string[]
  requarantined: readonly { remoteId: string; reason: string }[]
  cursor?: Cursor
  cause: ApplyOptions
}

interface InputRow {
  remote_id: string
  snap: unknown
  doc: unknown
  hash: string
  version: number
  op: string
  /** Null for an insert: the statement lists its fields (`INSERTED_FIELDS`). */
  changed: unknown
  actor: string | null
  /** Whether the write appends a history row (a touch does not). */
  history: boolean
}

/**
 * The rows as one JSON document. `JSON.stringify` of the objects, rather than splicing in the
 * canonical JSON made for the hash: measured, the spliced text cost more to build and to send.
 * An insert's changes are every field of its snapshot again, a third of the page's bytes, so
 * they are left out and listed by the statement from the snapshot it already has.
 */
function inputRows(plan: PagePlan): string {
  const row = (w: PagePlan['writes'][number], history: boolean): InputRow => ({
    remote_id: w.row.remoteId,
    snap: w.row.snapshot,
    doc: w.row.document,
    hash: w.row.contentHash,
    version: w.version,
    op: w.op,
    changed: w.op === 'insert' ? null : w.changed,
    actor: actorOf(w.op, w.row.snapshot),
    history,
  })
  return JSON.stringify([...plan.writes.map((w) => row(w, true)), ...plan.touches.map((w) => row(w, false))])
}

/**
 * An insert's history: `{field: {old: null, new}}` for every column and every `fields.<name>`
 * of the snapshot that is not null, as `diffSnapshots(null, snapshot)` lists them (the page
 * write test holds the two to the same answer).
 */
const INSERTED_FIELDS = `(select coalesce(jsonb_object_agg(e.key, jsonb_build_object('old', null, 'new', e.value)), '{}'::jsonb)
  from (select key, value from jsonb_each(i.snap) where key <> 'fields' and value <> 'null'::jsonb
        union all
        select 'fields.' || key, value from jsonb_each(i.snap->'fields') where value <> 'null'::jsonb) e)`

/** Runs the page's statement; returns how many records it wrote. */
export async function writePage(tx: Tx, stream: StreamRef, page: PageWrite): Promise<number> {
  const { connection, stream: name } = stream
  const rows = inputRows(page.plan)
  const scanRun = page.cause.scanRunId ?? null
  const hasCursor = page.cursor !== undefined
  const [result] = await tx<{ written: number }[]>`
    with input as (
      select * from jsonb_to_recordset(${rows}::jsonb)
        as t(remote_id text, snap jsonb, doc jsonb, hash text, version int, op text, changed jsonb, actor text, history boolean)
    ),
    upserted as (
      insert into elsync.records as r (connection, stream, remote_id, external_key, title, status, status_category,
        priority, due_at, description, assignees, fields, remote_created_at, remote_updated_at,
        created_by, updated_by, snapshot, document, content_hash, version)
      select ${connection}, ${name}, i.remote_id,
        i.snap->>'external_key', i.snap->>'title', i.snap->>'status', i.snap->>'status_category',
        i.snap->>'priority', (i.snap->>'due_at')::timestamptz, i.snap->>'description',
        i.snap->'assignees', i.snap->'fields',
        (i.snap->>'remote_created_at')::timestamptz, (i.snap->>'remote_updated_at')::timestamptz,
        i.snap->>'created_by', i.snap->>'updated_by', i.snap, i.doc, i.hash, i.version
      from input i
      on conflict (connection, stream, remote_id) do update set
        external_key = excluded.external_key, title = excluded.title, status = excluded.status,
        status_category = excluded.status_category, priority = excluded.priority, due_at = excluded.due_at,
        description = excluded.description, assignees = excluded.assignees, fields = excluded.fields,
        remote_created_at = excluded.remote_created_at, remote_updated_at = excluded.remote_updated_at,
        created_by = excluded.created_by, updated_by = excluded.updated_by,
        snapshot = excluded.snapshot, document = excluded.document, content_hash = excluded.content_hash,
        version = excluded.version, last_seen_at = now(), deleted_at = null, missed_scans = 0
      returning r.id, r.remote_id
    ),
    -- txid is left to its default, the writing transaction: the change feed orders by it
    history as (
      insert into elsync.record_changes (record_id, connection, stream, remote_id, version, op, changed, source, run_id, outbox_id, actor, changed_at)
      select u.id, ${connection}, ${name}, i.remote_id, i.version, i.op, coalesce(i.changed, ${tx.unsafe(INSERTED_FIELDS)}),
             ${page.cause.source ?? 'poll'}, ${page.cause.runId ?? null}::bigint, ${page.cause.outboxId ?? null}::bigint,
             i.actor, (i.snap->>'remote_updated_at')::timestamptz
      from input i join upserted u on u.remote_id = i.remote_id
      where i.history
    ),
    seen as (
      insert into elsync.scan_seen (run_id, remote_id)
      select ${scanRun}::bigint, s.remote_id from jsonb_array_elements_text(${JSON.stringify(page.seen)}::jsonb) as s(remote_id)
      where ${scanRun}::bigint is not null
      on conflict do nothing
    ),
    -- written against the quarantine's unique index expression, so that it is an index probe per id
    released as (
      delete from elsync.quarantine q
      where q.connection = ${connection} and q.stream = ${name} and coalesce(q.remote_id, '') = any(array(select jsonb_array_elements_text(${JSON.stringify(page.goodIds)}::jsonb)))
        and (coalesce(q.remote_id, ''), q.reason) not in (
          select * from unnest(${page.requarantined.map((r) => r.remoteId)}::text[], ${page.requarantined.map((r) => r.reason)}::text[]))
    ),
    moved as (
      insert into elsync.stream_state (connection, stream, cursor)
      select ${connection}, ${name}, ${JSON.stringify(page.cursor ?? null)}::jsonb where ${hasCursor}
      on conflict (connection, stream) do update set cursor = excluded.cursor, updated_at = now()
      where elsync.stream_state.cursor is distinct from excluded.cursor
    )
    select count(*)::int as written from upserted`
  return result?.written ?? 0
}
