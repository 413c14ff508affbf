import type { Sql } from '../../src/db/client.js'
import type { MappingSpec, OutboxRequest, Side } from '../../src/engine/write.types.js'

/** Fixtures of the write side's store tests: a mapping, links and outbox requests. */

export const mapping = (id: string): Pick<MappingSpec, 'id' | 'left' | 'right'> => ({
  id,
  left: { connection: 'elementum', stream: `it-${id}` },
  right: { connection: 'elean', stream: `web-${id}` },
})

/** `count` linked links of a mapping, inserted at once; their ids in order. */
export async function seedLinks(sql: Sql, mappingId: string, count: number): Promise<number[]> {
  const rows = await sql<{ id: string }[]>`
    insert into elsync.record_links (mapping_id, left_remote_id, right_remote_id, state)
    select ${mappingId}, 'L-' || i, 'R-' || i, 'linked' from generate_series(1, ${count}::int) as i
    returning id`
  return rows.map((r) => Number(r.id)).sort((a, b) => a - b)
}

export function request(mappingId: string, linkId: number, over: Partial<OutboxRequest> & { target?: Side } = {}): OutboxRequest {
  const target = over.target ?? 'right'
  const m = mapping(mappingId)
  return {
    mappingId,
    linkId,
    target,
    stream: target === 'left' ? m.left : m.right,
    op: 'update',
    remoteId: `R-${linkId}`,
    values: { status: 'In Progress' },
    decisions: [
      { field: 'status', base: { left: 'Open', right: 'To Do' }, left: 'In Progress', right: 'To Do', rule: 'left-changed', written: 'In Progress', target },
    ],
    ...over,
  }
}
