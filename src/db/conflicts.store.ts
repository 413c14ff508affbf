import type { ConflictStore, ConflictTx, Side, StoredConflict } from '../engine/write.types.js'
import type { Sql } from './client.js'
import { reconcileTx } from './reconcile.store.js'

/**
 * Conflicts for admins: the list (`GET /v1/conflicts`) and the transaction an admin's
 * resolution runs in (engine/resolve.ts), which shares reconcile's link and outbox queries.
 */
export function createPgConflictStore(sql: Sql): ConflictStore {
  return {
    transaction: <T>(fn: (tx: ConflictTx) => Promise<T>) =>
      sql.begin(async (tx) => {
        const conflictTx: ConflictTx = {
          ...reconcileTx(tx),
          async lockConflict(id: number): Promise<StoredConflict | null> {
            const [row] = await tx<{ id: string; mapping_id: string; link_id: string; field: string; state: 'open' | 'resolved' }[]>`
              select id, mapping_id, link_id, field, state from elsync.field_conflicts where id = ${id} for update`
            return row ? { id: Number(row.id), mappingId: row.mapping_id, linkId: Number(row.link_id), field: row.field, state: row.state } : null
          },
          async markResolved(id: number, winner: Side, by: string): Promise<void> {
            await tx`update elsync.field_conflicts set state = 'resolved', winner = ${winner}, resolved_at = now(), resolved_by = ${by}, updated_at = now()
              where id = ${id}`
          },
        }
        return fn(conflictTx)
      }) as Promise<T>,
  }
}

/** A conflict as the admin API lists it. */
export interface ConflictView {
  id: number
  mappingId: string
  linkId: number
  leftRemoteId: string | null
  rightRemoteId: string | null
  field: string
  leftValue: unknown
  rightValue: unknown
  base: unknown
  policy: string
  winner: Side | null
  state: 'open' | 'resolved'
  createdAt: string
  resolvedAt: string | null
  resolvedBy: string | null
}

export interface ConflictQuery {
  state?: 'open' | 'resolved'
  mapping?: string
  limit: number
}

export async function listConflicts(sql: Sql, q: ConflictQuery): Promise<ConflictView[]> {
  const rows = await sql<
    {
      conflict_id: string
      mapping_id: string
      link_id: string
      left_remote_id: string | null
      right_remote_id: string | null
      field: string
      left_value: unknown
      right_value: unknown
      base: unknown
      policy: string
      winner: Side | null
      state: 'open' | 'resolved'
      created_at: string
      resolved_at: string | null
      resolved_by: string | null
    }[]
  >`
    select conflict_id, mapping_id, link_id, left_remote_id, right_remote_id, field, left_value, right_value, base, policy, winner, state,
      to_json(created_at) #>> '{}' as created_at, to_json(resolved_at) #>> '{}' as resolved_at, resolved_by
    from elsync.conflicts
    where (${q.state ?? null}::text is null or state = ${q.state ?? null}) and (${q.mapping ?? null}::text is null or mapping_id = ${q.mapping ?? null})
    order by conflict_id desc limit ${q.limit}`
  return rows.map((r) => ({
    id: Number(r.conflict_id),
    mappingId: r.mapping_id,
    linkId: Number(r.link_id),
    leftRemoteId: r.left_remote_id,
    rightRemoteId: r.right_remote_id,
    field: r.field,
    leftValue: r.left_value ?? null,
    rightValue: r.right_value ?? null,
    base: r.base ?? null,
    policy: r.policy,
    winner: r.winner,
    state: r.state,
    createdAt: r.created_at,
    resolvedAt: r.resolved_at,
    resolvedBy: r.resolved_by,
  }))
}
