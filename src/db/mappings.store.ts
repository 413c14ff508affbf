import type { Sql } from './client.js'

/**
 * Pausing a mapping (`POST /v1/mappings/:id/pause|resume`): a flag on its row of
 * `mapping_offsets`, so that it survives restarts and every replica sees it. A paused
 * mapping is not reconciled and its queued writes are not claimed (outbox.store.ts); both
 * go on from where they were once it is resumed. Visible in the view `elsync.mappings`.
 */
export async function setMappingPaused(sql: Sql, mappingId: string, paused: boolean): Promise<void> {
  await sql`
    insert into elsync.mapping_offsets (mapping_id, paused) values (${mappingId}, ${paused})
    on conflict (mapping_id) do update set paused = excluded.paused, updated_at = now()`
}

export async function isMappingPaused(sql: Sql, mappingId: string): Promise<boolean> {
  const [row] = await sql<{ paused: boolean }[]>`select paused from elsync.mapping_offsets where mapping_id = ${mappingId}`
  return row?.paused ?? false
}

/** Writes of the mapping waiting to be pushed (pending or failed). */
export async function queuedWrites(sql: Sql, mappingId: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from elsync.outbox where mapping_id = ${mappingId} and state in ('pending', 'failed')`
  return row?.n ?? 0
}
