import type { FeedOffset } from '../engine/ports.js'
import type { Snapshot } from '../engine/record.js'
import type { StreamRef } from '../engine/types.js'
import type {
  Base,
  ConflictRecord,
  FieldDecision,
  Link,
  LinkState,
  MappingSpec,
  MirroredRecord,
  OutboxRequest,
  ReconcileStore,
  ReconcileTx,
  Side,
} from '../engine/write.types.js'
import type { Sql, Tx } from './client.js'
import { commentCopyTx } from './comments.store.js'

/**
 * Reconcile's side of Postgres: links and their base, the outbox rows it enqueues, the
 * conflicts it meets and the mapping's feed offset, all written in one transaction so that a
 * crash never moves the offset past writes that were not queued (or queues them twice).
 */

interface LinkRow {
  id: string
  mapping_id: string
  left_remote_id: string | null
  right_remote_id: string | null
  state: LinkState
  base: Base
  held_fields: string[]
}

const LINK_COLUMNS = 'id, mapping_id, left_remote_id, right_remote_id, state, base, held_fields'

const toLink = (r: LinkRow): Link => ({
  id: Number(r.id),
  mappingId: r.mapping_id,
  leftRemoteId: r.left_remote_id,
  rightRemoteId: r.right_remote_id,
  state: r.state,
  base: r.base,
  heldFields: r.held_fields,
})

const json = (value: unknown) => JSON.stringify(value ?? null)

/** Thrown inside `sql.begin` to roll a dry run back; carries the result out. */
class DryRun extends Error {
  constructor(readonly result: unknown) {
    super('dry run: rolled back')
  }
}

/** Inserts one outbox row as requested; its id. Child writes (relate, watch, …) use it as they are: no superseding. */
export async function insertOutbox(tx: Tx, req: OutboxRequest): Promise<number> {
  const [row] = await tx<{ id: string }[]>`
    insert into elsync.outbox (mapping_id, link_id, target, connection, stream, op, remote_id, field_values, marker, decisions)
    values (${req.mappingId}, ${req.linkId}, ${req.target}, ${req.stream.connection}, ${req.stream.stream}, ${req.op},
            ${req.remoteId}, ${json(req.values)}::jsonb, ${req.marker ?? null}, ${json(req.decisions)}::jsonb)
    returning id`
  return Number(row?.id)
}

/** Runs `fn` in one transaction; with `rollback` (a dry run) nothing it wrote is kept, and its result is still returned. */
export async function transactionOf<T, X>(sql: Sql, wrap: (tx: Tx) => X, fn: (tx: X) => Promise<T>, o: { rollback?: boolean } = {}): Promise<T> {
  try {
    return (await sql.begin(async (tx) => {
      const result = await fn(wrap(tx))
      if (o.rollback) throw new DryRun(result)
      return result
    })) as T
  } catch (err) {
    if (err instanceof DryRun) return err.result as T
    throw err
  }
}

/** Reconcile's queries in one transaction; the conflict store (an admin's resolution) builds on them. */
export function reconcileTx(tx: Tx): ReconcileTx {
  return {
    comments: commentCopyTx(tx),

    async findLink(mappingId: string, side: Side, remoteId: string) {
      const column = side === 'left' ? 'left_remote_id' : 'right_remote_id'
      // locked: two reconciles of one mapping must not both move one link's base
      const [row] = await tx<LinkRow[]>`
        select ${tx.unsafe(LINK_COLUMNS)} from elsync.record_links
        where mapping_id = ${mappingId} and ${tx.unsafe(column)} = ${remoteId}
        for update`
      return row ? toLink(row) : null
    },

    async findLinkById(mappingId: string, linkId: number) {
      const [row] = await tx<LinkRow[]>`
        select ${tx.unsafe(LINK_COLUMNS)} from elsync.record_links where mapping_id = ${mappingId} and id = ${linkId} for update`
      return row ? toLink(row) : null
    },

    async createLink(mappingId, init) {
      const [row] = await tx<LinkRow[]>`
        insert into elsync.record_links (mapping_id, left_remote_id, right_remote_id, state, base, last_synced_at)
        values (${mappingId}, ${init.leftRemoteId}, ${init.rightRemoteId}, ${init.state}, ${json(init.base)}::jsonb,
                case when ${init.state}::text = 'linked' then now() end)
        returning ${tx.unsafe(LINK_COLUMNS)}`
      return toLink(row as LinkRow)
    },

    async updateLink(link: Link) {
      await tx`
        update elsync.record_links set left_remote_id = ${link.leftRemoteId}, right_remote_id = ${link.rightRemoteId},
          state = ${link.state}, base = ${json(link.base)}::jsonb, held_fields = ${json(link.heldFields)}::jsonb, last_synced_at = now()
        where id = ${link.id}`
    },

    async loadRecord(stream: StreamRef, remoteId: string): Promise<MirroredRecord | null> {
      const [row] = await tx<{ snapshot: Snapshot; deleted: boolean; document: unknown }[]>`
        select snapshot, deleted_at is not null as deleted, document from elsync.records
        where connection = ${stream.connection} and stream = ${stream.stream} and remote_id = ${remoteId}`
      if (!row) return null
      // the snapshot's canonical text, as diffed, rather than the column's Date
      return { stream, remoteId, snapshot: row.snapshot, deleted: row.deleted, remoteUpdatedAt: row.snapshot.remote_updated_at, document: row.document }
    },

    async enqueue(req: OutboxRequest): Promise<number> {
      // Only rows never handed to an executor (attempts counts claims): one that was claimed may
      // be on its way to the vendor, and a create in flight must finish to be found by its marker.
      // A claim holding the row's lock makes this wait, then see attempts > 0 and leave it.
      const older = await tx<{ id: string; field_values: Record<string, unknown>; decisions: FieldDecision[] }[]>`
        select id, field_values, decisions from elsync.outbox
        where link_id = ${req.linkId} and target = ${req.target} and op = ${req.op} and state = 'pending' and attempts = 0
        order by id for update`
      // The base already counts the older rows' fields as written (their echo is awaited), so no
      // later merge would plan them again: the newer row carries them, its own values winning.
      const fields = new Set(req.decisions.map((d) => d.field))
      const values = Object.assign({}, ...older.map((o) => o.field_values), req.values) as Record<string, unknown>
      const decisions = [...older.flatMap((o) => o.decisions).filter((d) => !fields.has(d.field)), ...req.decisions]
      const id = await insertOutbox(tx, { ...req, values, decisions })
      if (older.length > 0)
        await tx`
          update elsync.outbox set state = 'superseded', superseded_by = ${id}, updated_at = now()
          where id = any(${older.map((o) => o.id)}::bigint[])`
      return id
    },

    async recordConflict(linkId: number, mappingId: string, c: ConflictRecord) {
      const resolved = c.winner !== null
      // one open conflict per link and field: a later change of a held field refreshes it
      await tx`
        insert into elsync.field_conflicts as f (mapping_id, link_id, field, left_value, right_value, base, policy, winner, state, resolved_at, resolved_by)
        values (${mappingId}, ${linkId}, ${c.field}, ${json(c.leftValue)}::jsonb, ${json(c.rightValue)}::jsonb, ${json(c.base)}::jsonb,
                ${c.policy}, ${c.winner}, ${resolved ? 'resolved' : 'open'}, case when ${resolved}::boolean then now() end, ${resolved ? 'policy' : null})
        on conflict (link_id, field) where state = 'open' do update set
          left_value = excluded.left_value, right_value = excluded.right_value, base = excluded.base, policy = excluded.policy, updated_at = now()`
    },

    async saveOffset(mappingId: string, offset: FeedOffset | null) {
      await tx`
        insert into elsync.mapping_offsets (mapping_id, offset_txid, offset_id)
        values (${mappingId}, ${offset?.txid ?? null}::xid8, ${offset?.id ?? null}::bigint)
        on conflict (mapping_id) do update set offset_txid = excluded.offset_txid, offset_id = excluded.offset_id, updated_at = now()`
    },
  }
}

/** The streams of each mapping's sides, so the analyst views can name a linked record's connection and stream. */
export async function saveMappingSides(sql: Tx, mappings: readonly Pick<MappingSpec, 'id' | 'left' | 'right'>[]): Promise<void> {
  if (mappings.length === 0) return
  await sql`
    insert into elsync.mapping_offsets (mapping_id, left_connection, left_stream, right_connection, right_stream)
    select * from unnest(${mappings.map((m) => m.id)}::text[], ${mappings.map((m) => m.left.connection)}::text[],
                         ${mappings.map((m) => m.left.stream)}::text[], ${mappings.map((m) => m.right.connection)}::text[],
                         ${mappings.map((m) => m.right.stream)}::text[])
    on conflict (mapping_id) do update set left_connection = excluded.left_connection, left_stream = excluded.left_stream,
      right_connection = excluded.right_connection, right_stream = excluded.right_stream
    where (mapping_offsets.left_connection, mapping_offsets.left_stream, mapping_offsets.right_connection, mapping_offsets.right_stream)
      is distinct from (excluded.left_connection, excluded.left_stream, excluded.right_connection, excluded.right_stream)`
}

export interface ReconcileStoreOptions {
  /** The configured mappings: their sides are saved (once, before the first use) for the analyst views. */
  mappings?: readonly Pick<MappingSpec, 'id' | 'left' | 'right'>[]
}

export function createPgReconcileStore(sql: Sql, opts: ReconcileStoreOptions = {}): ReconcileStore {
  let registered: Promise<void> | null = null
  const register = () => {
    registered ??= saveMappingSides(sql, opts.mappings ?? []).catch((err: unknown) => {
      registered = null // the database may be away: try again next time
      throw err
    })
    return registered
  }

  return {
    async offset(mappingId: string): Promise<FeedOffset | null> {
      await register()
      const [row] = await sql<{ txid: string | null; id: string | null }[]>`
        select offset_txid::text as txid, offset_id::text as id from elsync.mapping_offsets where mapping_id = ${mappingId}`
      return row?.txid != null && row.id != null ? { txid: row.txid, id: row.id } : null
    },

    async transaction<T>(fn: (tx: ReconcileTx) => Promise<T>, o: { rollback?: boolean } = {}): Promise<T> {
      await register()
      return transactionOf(sql, reconcileTx, fn, o)
    },
  }
}
