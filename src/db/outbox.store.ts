import { SyncError } from '../engine/errors.js'
import type { ClaimOptions, FieldDecision, OutboxOp, OutboxRow, OutboxState, OutboxStore, PushFailure, PushResult, Side } from '../engine/write.types.js'
import { saveCopyResult } from './attachments.store.js'
import type { Sql } from './client.js'

/**
 * The outbox as executors see it (DESIGN §5). Several executors, in one process or several
 * replicas, claim rows in one statement with `FOR UPDATE SKIP LOCKED`, so no row goes to two
 * of them, and a lease, so that the rows of an executor that died are claimed again once it
 * expires. A row stays `pending`/`failed` while claimed; only its lease holder may mark it.
 *
 * `attempts` counts claims, not failures: a push that kills its executor (a crash, an OOM, a
 * hang past the lease) still counts, so a row that does so every time ends up `dead` instead of
 * taking the executors down forever. The executor sees the current attempt in `row.attempts`.
 *
 * Writes of one link to one side go out in the order they were queued: a row is not claimed
 * while an older row of the same link and target is still pending or failed (in flight or
 * waiting for its retry), so a slow or retried update never lands after a newer one.
 */

interface OutboxDbRow {
  id: string
  mapping_id: string
  link_id: string
  target: Side
  connection: string
  stream: string
  op: OutboxOp
  remote_id: string | null
  field_values: Record<string, unknown>
  marker: string | null
  decisions: FieldDecision[]
  state: OutboxState
  attempts: number
  last_error: string | null
  /** A string on a pool drizzle wraps (it takes over the timestamp parsers), a Date otherwise. */
  created_at: string | Date
}

const toRow = (r: OutboxDbRow): OutboxRow => ({
  id: Number(r.id),
  mappingId: r.mapping_id,
  linkId: Number(r.link_id),
  target: r.target,
  stream: { connection: r.connection, stream: r.stream },
  op: r.op,
  remoteId: r.remote_id,
  values: r.field_values,
  ...(r.marker === null ? {} : { marker: r.marker }),
  decisions: r.decisions,
  state: r.state,
  attempts: r.attempts,
  lastError: r.last_error,
  createdAt: new Date(r.created_at),
})

const EXCERPT_CHARS = 1000
const PRUNE_BATCH = 5000
const ERROR_CHARS = 2000

/** What the vendor now stores, without the raw document: enough to see what the write did. */
function excerpt(result: PushResult): string | null {
  // an attachment copy: what became of the file; a child write (a comment) names the child it wrote
  if (!result.record)
    return result.attachment ? JSON.stringify(result.attachment) : result.childId === undefined ? null : JSON.stringify({ childId: result.childId })
  const { document: _document, ...fields } = result.record
  const text = JSON.stringify(fields)
  return text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS - 1)}…` : text
}

const shown = (v: unknown): string => {
  const s = JSON.stringify(v ?? null)
  return s.length > 80 ? `${s.slice(0, 79)}…` : s
}

/** For an update that left fields out (the target moved): the values it did send, and the ledger's note. */
function leftOut(row: OutboxRow, result: PushResult): { sent: Record<string, unknown>; sentNothing: boolean; note: string } | null {
  const skipped = result.skippedFields ?? []
  if (skipped.length === 0) return null
  const names = new Set(skipped.map((s) => s.name))
  const sent = Object.fromEntries(Object.entries(row.values).filter(([name]) => !names.has(name)))
  const fields = skipped.map((s) => `${s.name} (was ${shown(s.previous)}, now ${shown(s.found)}; would have written ${shown(s.planned)})`)
  const note = `not written, changed on the target since the write was planned, left for the next reconcile to merge: ${fields.join(', ')}`
  return { sent, sentNothing: Object.keys(sent).length === 0, note: note.slice(0, ERROR_CHARS) }
}

/** A mark by an executor whose claim was taken over (its lease expired and another executor claimed the row), or of a row no longer in flight. */
export class OutboxLeaseLostError extends SyncError {
  override readonly code = 'outbox_lease_lost'
  constructor(
    readonly outboxId: number,
    readonly owner: string,
  ) {
    super(`outbox row ${outboxId} is no longer claimed by ${owner}: its lease expired and it was claimed again, or it was already marked`)
  }
}

export function createPgOutboxStore(sql: Sql): OutboxStore {
  return {
    async claim({ owner, leaseMs, limit }: ClaimOptions): Promise<OutboxRow[]> {
      const rows = await sql<OutboxDbRow[]>`
        update elsync.outbox o set lease_owner = ${owner}, lease_expires_at = now() + make_interval(secs => ${leaseMs / 1000}),
          attempts = o.attempts + 1, updated_at = now()
        where o.id in (
          select c.id from elsync.outbox c
          where c.state in ('pending', 'failed') and c.next_attempt_at <= now()
            and (c.lease_expires_at is null or c.lease_expires_at < now())
            and not exists (
              select 1 from elsync.outbox p
              where p.link_id = c.link_id and p.target = c.target and p.id < c.id and p.state in ('pending', 'failed'))
            -- an admin paused the mapping: its rows wait, in order, until it is resumed
            and not exists (select 1 from elsync.mapping_offsets m where m.mapping_id = c.mapping_id and m.paused)
          order by c.id
          limit ${Math.max(1, Math.floor(limit))}
          for update skip locked)
        returning o.*`
      return rows.map(toRow).sort((a, b) => a.id - b.id)
    },

    async heldElsewhere(owner: string): Promise<number[]> {
      const rows = await sql<{ id: string }[]>`
        select id from elsync.outbox
        where state in ('pending', 'failed') and next_attempt_at <= now() and lease_expires_at > now() and lease_owner is distinct from ${owner}
        order by id`
      return rows.map((r) => Number(r.id))
    },

    async extend(ids: readonly number[], owner: string, leaseMs: number): Promise<number[]> {
      if (ids.length === 0) return []
      const rows = await sql<{ id: string }[]>`
        update elsync.outbox set lease_expires_at = now() + make_interval(secs => ${leaseMs / 1000})
        where id = any(${ids.map(String)}::bigint[]) and lease_owner = ${owner} and lease_expires_at > now() and state in ('pending', 'failed')
        returning id`
      return rows.map((r) => Number(r.id))
    },

    async release(ids: readonly number[], owner: string): Promise<void> {
      if (ids.length === 0) return
      // never attempted: the claim gives its attempt back
      await sql`
        update elsync.outbox set lease_owner = null, lease_expires_at = null, attempts = greatest(attempts - 1, 0), updated_at = now()
        where id = any(${ids.map(String)}::bigint[]) and lease_owner = ${owner} and state in ('pending', 'failed')`
    },

    async markSent(row: OutboxRow, owner: string, result: PushResult): Promise<void> {
      const left = leftOut(row, result)
      await sql.begin(async (tx) => {
        // lease_owner is kept: which executor sent it
        const [sent] = await tx<{ link_id: string; target: Side; op: OutboxOp }[]>`
          update elsync.outbox set state = ${result.skipped || left?.sentNothing ? 'ignored' : 'sent'},
            sent_at = case when ${!left?.sentNothing}::boolean then now() end,
            updated_at = now(), lease_expires_at = null,
            last_status = ${result.status ?? null}, response_excerpt = ${excerpt(result)},
            field_values = coalesce(${left ? JSON.stringify(left.sent) : null}::jsonb, field_values),
            remote_id = coalesce(remote_id, ${result.remoteId}),
            last_error = ${left?.note ?? result.skipped?.message.slice(0, ERROR_CHARS) ?? null},
            last_error_code = ${left ? 'target_changed' : (result.skipped?.code ?? null)}
          where id = ${row.id} and lease_owner = ${owner} and state in ('pending', 'failed')
          returning link_id, target, op`
        if (!sent) throw new OutboxLeaseLostError(row.id, owner)
        if (sent.op === 'create') {
          const column = sent.target === 'left' ? 'left_remote_id' : 'right_remote_id'
          await tx`
            update elsync.record_links set ${tx.unsafe(column)} = ${result.remoteId}, last_synced_at = now(),
              state = case when state = 'creating' then 'linked' else state end
            where id = ${sent.link_id}`
          // writes queued for the record before it existed (comment copies) now know where to go
          await tx`
            update elsync.outbox set remote_id = ${result.remoteId}, updated_at = now()
            where link_id = ${sent.link_id} and target = ${sent.target} and op <> 'create' and remote_id is null
              and state in ('pending', 'failed')`
        } else {
          await tx`update elsync.record_links set last_synced_at = now() where id = ${sent.link_id}`
        }
        if (sent.op === 'attachment' && result.attachment) await saveCopyResult(tx, row.id, result.attachment)
        if (sent.op === 'comment' && result.childId !== undefined) {
          await tx`update elsync.comment_links set target_comment_id = ${result.childId}, copied_at = now() where outbox_id = ${row.id}`
        }
      })
    },

    async markFailed(row: OutboxRow, owner: string, failure: PushFailure): Promise<void> {
      const retryAt = failure.retryAt?.toISOString() ?? null
      const [failed] = await sql`
        update elsync.outbox set state = case when ${retryAt}::timestamptz is null then 'dead' else 'failed' end,
          next_attempt_at = coalesce(${retryAt}::timestamptz, next_attempt_at), lease_owner = null, lease_expires_at = null,
          last_error_code = ${failure.code}, last_error = ${failure.message.slice(0, ERROR_CHARS)}, last_status = ${failure.status ?? null},
          updated_at = now()
        where id = ${row.id} and lease_owner = ${owner} and state in ('pending', 'failed')
        returning 1`
      if (!failed) throw new OutboxLeaseLostError(row.id, owner)
    },

    async prune(olderThanMs: number): Promise<number> {
      let deleted = 0
      // in batches, so that a large backlog never holds long locks on the outbox
      for (;;) {
        const rows = await sql`
          delete from elsync.outbox where id in (
            select o.id from elsync.outbox o
            where o.state in ('sent', 'ignored', 'superseded') and o.updated_at < now() - make_interval(secs => ${olderThanMs / 1000})
              -- a later sent write is what tells the sync state that a dead one was overcome
              and not exists (select 1 from elsync.outbox d where d.link_id = o.link_id and d.target = o.target and d.id < o.id and d.state = 'dead')
            limit ${PRUNE_BATCH})
          returning 1`
        deleted += rows.length
        if (rows.length < PRUNE_BATCH) return deleted
      }
    },

    async retry(id: number): Promise<boolean> {
      return (await retryOutboxRow(sql, id)).retried
    },
  }
}

/**
 * An admin's retry: a `dead` row, or a `failed` one waiting for its next attempt, is due again
 * now with a fresh count of attempts. A row an executor holds (its lease runs) is left alone:
 * taking it back could send it twice. `state` is the row's state before; null: no such row.
 */
export async function retryOutboxRow(sql: Sql, id: number): Promise<{ retried: boolean; state: OutboxState | null }> {
  const [row] = await sql<{ state: OutboxState; retried: boolean }[]>`
    with before as (select id, state from elsync.outbox where id = ${id}),
    retried as (
      update elsync.outbox o set state = 'pending', attempts = 0, next_attempt_at = now(), lease_owner = null, lease_expires_at = null,
        updated_at = now()
      from before b
      where o.id = b.id and (o.state = 'dead' or (o.state = 'failed' and (o.lease_expires_at is null or o.lease_expires_at < now())))
      returning o.id)
    select b.state, exists (select 1 from retried) as retried from before b`
  return row ? { retried: row.retried, state: row.state } : { retried: false, state: null }
}

/** An outbox row as the admin API lists it. */
export interface OutboxView {
  id: number
  mappingId: string
  linkId: number
  target: Side
  connection: string
  stream: string
  op: OutboxOp
  remoteId: string | null
  values: Record<string, unknown>
  state: OutboxState
  attempts: number
  nextAttemptAt: string
  lastErrorCode: string | null
  lastError: string | null
  lastStatus: number | null
  createdAt: string
  sentAt: string | null
}

export interface OutboxQuery {
  /** Absent: every row not settled yet (pending, failed, dead). */
  state?: 'pending' | 'failed' | 'dead'
  mapping?: string
  limit: number
}

/** Outbox rows in the order they were queued. */
export async function listOutbox(sql: Sql, q: OutboxQuery): Promise<OutboxView[]> {
  const states = q.state ? [q.state] : ['pending', 'failed', 'dead']
  type Row = Omit<OutboxDbRow, 'created_at' | 'marker' | 'decisions'> & {
    next_attempt_at: string
    created_at: string
    sent_at: string | null
    last_error_code: string | null
    last_status: number | null
  }
  const rows = await sql<Row[]>`
    select id, mapping_id, link_id, target, connection, stream, op, remote_id, field_values, state, attempts,
      to_json(next_attempt_at) #>> '{}' as next_attempt_at, last_error_code, last_error, last_status,
      to_json(created_at) #>> '{}' as created_at, to_json(sent_at) #>> '{}' as sent_at
    from elsync.outbox
    where state = any(${states}::text[]) and (${q.mapping ?? null}::text is null or mapping_id = ${q.mapping ?? null})
    order by id limit ${q.limit}`
  return rows.map((r) => ({
    id: Number(r.id),
    mappingId: r.mapping_id,
    linkId: Number(r.link_id),
    target: r.target,
    connection: r.connection,
    stream: r.stream,
    op: r.op,
    remoteId: r.remote_id,
    values: r.field_values,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastErrorCode: r.last_error_code,
    lastError: r.last_error,
    lastStatus: r.last_status,
    createdAt: r.created_at,
    sentAt: r.sent_at,
  }))
}
