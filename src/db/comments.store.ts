import type { StreamRef } from '../engine/types.js'
import type { CommentCandidate, CommentCopyTx, OutboxRequest, Side } from '../engine/write.types.js'
import type { Tx } from './client.js'

/**
 * Comment copies in Postgres (engine/children.comments.ts): which human comments of a mapping's
 * linked records were never copied, and the plan of a copy (its outbox row and its comment link,
 * in reconcile's transaction). The push's bookkeeping is in outbox.store.ts (`markSent`).
 */

interface CandidateRow {
  link_id: string
  parent: string
  target: string | null
  comment_id: string
  body: string
  author: string | null
  created_at: string | Date | null
}

const iso = (v: string | Date | null): string | null => (v === null ? null : new Date(v).toISOString())

export function commentCopyTx(tx: Tx): CommentCopyTx {
  return {
    async candidates(mappingId: string, side: Side, stream: StreamRef, limit: number): Promise<CommentCandidate[]> {
      const own = side === 'left' ? 'left_remote_id' : 'right_remote_id'
      const other = side === 'left' ? 'right_remote_id' : 'left_remote_id'
      const otherSide: Side = side === 'left' ? 'right' : 'left'
      // column names come from the two above, never from input
      const rows = await tx<CandidateRow[]>`
        select l.id as link_id, c.remote_id as parent, l.${tx.unsafe(other)} as target, c.comment_id, c.body, c.author, c.created_at
        from elsync.record_links l
        join elsync.record_comments c on c.connection = ${stream.connection} and c.stream = ${stream.stream} and c.remote_id = l.${tx.unsafe(own)}
        join elsync.records r on r.connection = c.connection and r.stream = c.stream and r.remote_id = c.remote_id and r.deleted_at is null
        where l.mapping_id = ${mappingId} and l.state in ('linked', 'creating')
          and c.origin = 'native' and coalesce(btrim(c.body), '') <> ''
          and not exists (select 1 from elsync.comment_links k
                          where k.link_id = l.id and k.source_side = ${side} and k.source_comment_id = c.comment_id)
          and not exists (select 1 from elsync.comment_links k
                          where k.link_id = l.id and k.source_side = ${otherSide} and k.target_comment_id = c.comment_id)
        order by c.created_at nulls first, c.id
        limit ${limit}`
      return rows.map((r) => ({
        linkId: Number(r.link_id),
        side,
        parentRemoteId: r.parent,
        targetRemoteId: r.target,
        commentId: r.comment_id,
        body: r.body,
        author: r.author,
        createdAt: iso(r.created_at),
      }))
    },

    async planCopy(c: CommentCandidate, req: OutboxRequest): Promise<number | null> {
      const [link] = await tx<{ id: string }[]>`
        insert into elsync.comment_links (mapping_id, link_id, source_side, source_comment_id)
        values (${req.mappingId}, ${c.linkId}, ${c.side}, ${c.commentId})
        on conflict (link_id, source_side, source_comment_id) do nothing
        returning id`
      if (!link) return null
      const [row] = await tx<{ id: string }[]>`
        insert into elsync.outbox (mapping_id, link_id, target, connection, stream, op, remote_id, field_values, decisions)
        values (${req.mappingId}, ${req.linkId}, ${req.target}, ${req.stream.connection}, ${req.stream.stream}, ${req.op},
                ${req.remoteId}, ${JSON.stringify(req.values)}::jsonb, ${JSON.stringify(req.decisions)}::jsonb)
        returning id`
      const id = Number(row?.id)
      await tx`update elsync.comment_links set outbox_id = ${id} where id = ${link.id}`
      return id
    },
  }
}
