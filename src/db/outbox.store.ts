import { SyncError } from '../engine/errors.js'
import type { ClaimOptions, FieldDecision, OutboxOp, OutboxRow, OutboxState, OutboxStore, PushFailure, PushResult, Side } from '../engine/write.types.js'
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
const ERROR_CHARS = 2000

/** What the vendor now stores, without the raw document: enough to see what the write did. */
function excerpt(result: PushResult): string | null {
  if (!result.record) return null
  const { document: _document, ...fields } = result.record
  const text = JSON.stringify(fields)
  return text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS - 1)}…` : text
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
          order by c.id
          limit ${Math.max(1, Math.floor(limit))}
          for update skip locked)
        returning o.*`
      return rows.map(toRow).sort((a, b) => a.id - b.id)
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
      await sql.begin(async (tx) => {
        // lease_owner is kept: which executor sent it
        const [sent] = await tx<{ link_id: string; target: Side; op: OutboxOp }[]>`
          update elsync.outbox set state = 'sent', sent_at = now(), updated_at = now(), lease_expires_at = null,
            last_status = ${result.status ?? null}, response_excerpt = ${excerpt(result)},
            remote_id = coalesce(remote_id, ${result.remoteId}), last_error = null, last_error_code = null
          where id = ${row.id} and lease_owner = ${owner} and state in ('pending', 'failed')
          returning link_id, target, op`
        if (!sent) throw new OutboxLeaseLostError(row.id, owner)
        if (sent.op === 'create') {
          const column = sent.target === 'left' ? 'left_remote_id' : 'right_remote_id'
          await tx`
            update elsync.record_links set ${tx.unsafe(column)} = ${result.remoteId}, last_synced_at = now(),
              state = case when state = 'creating' then 'linked' else state end
            where id = ${sent.link_id}`
        } else {
          await tx`update elsync.record_links set last_synced_at = now() where id = ${sent.link_id}`
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

    async retry(id: number): Promise<boolean> {
      const rows = await sql`
        update elsync.outbox set state = 'pending', attempts = 0, next_attempt_at = now(), lease_owner = null, lease_expires_at = null,
          updated_at = now()
        where id = ${id} and state = 'dead'
        returning 1`
      return rows.length > 0
    },
  }
}
