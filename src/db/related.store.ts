import type { RelatedStore, RelatedTx, RelationEntry, RelationState, RelationUpdate } from '../engine/children.related.js'
import type { StreamRef } from '../engine/types.js'
import type { OutboxState, Side } from '../engine/write.types.js'
import type { Sql, Tx } from './client.js'
import { insertOutbox, transactionOf } from './reconcile.store.js'

/**
 * Relation links (see engine/children.related.ts) over Postgres: the relations of the mirror
 * (`record_relations`) paired across a mapping's sides, with what the planner needs read in
 * one statement: whether each side's mirror shows the relation, the parents' link, the last
 * write's state, and for waiting ones the ends on the other side once both are linked.
 */

// column names by side: chosen from these constants, never from input
const COLS = {
  left: { parent: 'left_parent_id', related: 'left_related_id', seen: 'seen_left', link: 'left_remote_id' },
  right: { parent: 'right_parent_id', related: 'right_related_id', seen: 'seen_right', link: 'right_remote_id' },
} as const

interface EntryRow {
  id: string
  origin: Side
  state: RelationState
  left_parent_id: string | null
  left_related_id: string | null
  right_parent_id: string | null
  right_related_id: string | null
  seen_left: boolean
  seen_right: boolean
  outbox_id: string | null
  outbox_state: OutboxState | null
  present_left: boolean
  present_right: boolean
  parent_link_id: string | null
  cp_parent: string | null
  cp_related: string | null
  cp_present: boolean | null
  clash_id: string | null
}

const endsOf = (parent: string | null, related: string | null) => (parent !== null && related !== null ? { parent, related } : null)

function toEntry(r: EntryRow): RelationEntry {
  return {
    id: Number(r.id),
    origin: r.origin,
    state: r.state,
    ends: { left: endsOf(r.left_parent_id, r.left_related_id), right: endsOf(r.right_parent_id, r.right_related_id) },
    seen: { left: r.seen_left, right: r.seen_right },
    present: { left: r.present_left, right: r.present_right },
    parentLinkId: r.parent_link_id === null ? null : Number(r.parent_link_id),
    outbox: r.outbox_id === null ? null : { id: Number(r.outbox_id), state: r.outbox_state ?? 'sent' },
    ...(r.cp_parent !== null && r.cp_related !== null
      ? {
          counterpart: {
            parent: r.cp_parent,
            related: r.cp_related,
            present: r.cp_present === true,
            clashId: r.clash_id === null ? null : Number(r.clash_id),
          },
        }
      : {}),
  }
}

function relatedTx(tx: Tx): RelatedTx {
  return {
    async discover(mappingId: string, streams: Record<Side, StreamRef>, origin: Side): Promise<number> {
      const c = COLS[origin]
      const s = streams[origin]
      // both ends in the mapping's stream; a copy of ours has its ends in a relation link already
      const rows = await tx`
        insert into elsync.relation_links (mapping_id, origin, ${tx(c.parent)}, ${tx(c.related)}, state, ${tx(c.seen)})
        select ${mappingId}, ${origin}, r.remote_id, r.related_remote_id, 'waiting', true
        from elsync.record_relations r
        where r.connection = ${s.connection} and r.stream = ${s.stream} and r.related_stream = ${s.stream}
          and not exists (select 1 from elsync.relation_links e
                          where e.mapping_id = ${mappingId} and e.${tx(c.parent)} = r.remote_id and e.${tx(c.related)} = r.related_remote_id)
        on conflict do nothing
        returning 1`
      return rows.length
    },

    async review(mappingId: string, streams: Record<Side, StreamRef>): Promise<RelationEntry[]> {
      const { left: L, right: R } = streams
      // a link of this mapping with both records, found from the origin side's id (one index probe either way)
      const linkOf = (end: 'parent' | 'related') => tx`
        select l.id, l.left_remote_id, l.right_remote_id from elsync.record_links l
        where e.origin = 'left' and l.mapping_id = ${mappingId} and l.left_remote_id = e.${tx(COLS.left[end])}
          and l.state = 'linked' and l.right_remote_id is not null
        union all
        select l.id, l.left_remote_id, l.right_remote_id from elsync.record_links l
        where e.origin = 'right' and l.mapping_id = ${mappingId} and l.right_remote_id = e.${tx(COLS.right[end])}
          and l.state = 'linked' and l.left_remote_id is not null
        limit 1`
      const rows = await tx<EntryRow[]>`
        with x as (
          select e.id, e.origin, e.state, e.left_parent_id, e.left_related_id, e.right_parent_id, e.right_related_id,
                 e.seen_left, e.seen_right, e.outbox_id, o.state as outbox_state, p.id as parent_link_id,
                 exists (select 1 from elsync.record_relations r where r.connection = ${L.connection} and r.stream = ${L.stream}
                           and r.remote_id = e.left_parent_id and r.related_remote_id = e.left_related_id) as present_left,
                 exists (select 1 from elsync.record_relations r where r.connection = ${R.connection} and r.stream = ${R.stream}
                           and r.remote_id = e.right_parent_id and r.related_remote_id = e.right_related_id) as present_right,
                 case when e.origin = 'left' then p.right_remote_id else p.left_remote_id end as cp_parent,
                 case when e.origin = 'left' then q.right_remote_id else q.left_remote_id end as cp_related
          from elsync.relation_links e
          left join elsync.outbox o on o.id = e.outbox_id
          left join lateral (${linkOf('parent')}) p on true
          left join lateral (${linkOf('related')}) q on e.state = 'waiting'
          where e.mapping_id = ${mappingId}
        )
        select x.*,
          case when x.cp_related is not null then exists (
            select 1 from elsync.record_relations r
            where ((x.origin = 'left' and r.connection = ${R.connection} and r.stream = ${R.stream})
                or (x.origin = 'right' and r.connection = ${L.connection} and r.stream = ${L.stream}))
              and r.remote_id = x.cp_parent and r.related_remote_id = x.cp_related) end as cp_present,
          case when x.cp_related is not null then (
            select f.id from elsync.relation_links f
            where f.mapping_id = ${mappingId} and f.id <> x.id
              and ((x.origin = 'left' and f.right_parent_id = x.cp_parent and f.right_related_id = x.cp_related)
                or (x.origin = 'right' and f.left_parent_id = x.cp_parent and f.left_related_id = x.cp_related))
            limit 1) end as clash_id
        from x
        -- a linked pair both sides still show as last seen needs nothing
        where x.state <> 'linked' or x.present_left <> x.seen_left or x.present_right <> x.seen_right
        order by x.id`
      return rows.map(toEntry)
    },

    async update(id: number, change: RelationUpdate): Promise<void> {
      const { ends, seen } = change
      await tx`
        update elsync.relation_links set
          state = coalesce(${change.state ?? null}, state),
          left_parent_id = coalesce(${ends?.left?.parent ?? null}, left_parent_id),
          left_related_id = coalesce(${ends?.left?.related ?? null}, left_related_id),
          right_parent_id = coalesce(${ends?.right?.parent ?? null}, right_parent_id),
          right_related_id = coalesce(${ends?.right?.related ?? null}, right_related_id),
          seen_left = coalesce(${seen?.left ?? null}::boolean, seen_left),
          seen_right = coalesce(${seen?.right ?? null}::boolean, seen_right),
          outbox_id = coalesce(${change.outboxId ?? null}::bigint, outbox_id),
          updated_at = now()
        where id = ${id}`
    },

    async remove(id: number): Promise<void> {
      await tx`delete from elsync.relation_links where id = ${id}`
    },

    enqueue: (req) => insertOutbox(tx, req),
  }
}

export function createPgRelatedStore(sql: Sql): RelatedStore {
  return { transaction: (fn, opts) => transactionOf(sql, relatedTx, fn, opts) }
}
