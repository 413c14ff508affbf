import type { AttachmentCandidate, AttachmentCopyStore } from '../engine/children.attachments.js'
import { otherSide, type AttachmentCopyResult, type MappingSpec, type OutboxRequest, type Side } from '../engine/write.types.js'
import type { Sql, Tx } from './client.js'

/**
 * Copy records of attachments (`attachment_links`, engine children.attachments.ts): which
 * attachments of linked records still need a copy, the copy planned with its outbox row in
 * one transaction, and completed with the row's mark (outbox.store.ts calls `saveCopyResult`).
 */

interface CandidateRow {
  link_id: string
  source_remote_id: string
  target_remote_id: string
  attachment_id: string
  filename: string | null
  media_type: string | null
  size: string | null
}

const idColumn = (side: Side): string => (side === 'left' ? 'left_remote_id' : 'right_remote_id')

export function createPgAttachmentCopies(sql: Sql): AttachmentCopyStore {
  return {
    async candidates(mapping: MappingSpec, from: Side, limit: number): Promise<AttachmentCandidate[]> {
      const to = otherSide(from)
      const src = mapping[from]
      const tgt = mapping[to]
      // column names come from idColumn, never from input
      const rows = await sql<CandidateRow[]>`
        select l.id as link_id, a.remote_id as source_remote_id, l.${sql.unsafe(idColumn(to))} as target_remote_id,
               a.attachment_id, a.filename, a.media_type, a.size
        from elsync.record_attachments a
        join elsync.record_links l on l.mapping_id = ${mapping.id} and l.${sql.unsafe(idColumn(from))} = a.remote_id
          and l.state = 'linked' and l.${sql.unsafe(idColumn(to))} is not null
        join elsync.records s on s.connection = a.connection and s.stream = a.stream and s.remote_id = a.remote_id and s.deleted_at is null
        join elsync.records t on t.connection = ${tgt.connection} and t.stream = ${tgt.stream}
          and t.remote_id = l.${sql.unsafe(idColumn(to))} and t.deleted_at is null
        where a.connection = ${src.connection} and a.stream = ${src.stream}
          -- a file its system failed to process cannot be read (one still processing is retried until it can)
          and coalesce(upper(a.document->>'state'), '') not in ('ERROR', 'FAILED')
          -- not copied (or planned) yet
          and not exists (
            select 1 from elsync.attachment_links c
            where c.mapping_id = ${mapping.id} and c.source_connection = a.connection and c.source_stream = a.stream
              and c.source_remote_id = a.remote_id and c.source_attachment_id = a.attachment_id)
          -- not a copy of ours, nor possibly one: while a copy into this record is pending, its
          -- file may already be listed here before the push records its id
          and not exists (
            select 1 from elsync.attachment_links c
            where c.target_connection = a.connection and c.target_stream = a.stream and c.target_remote_id = a.remote_id
              and (c.target_attachment_id = a.attachment_id or c.state = 'pending'))
        order by a.id
        limit ${limit}`
      return rows.map((r) => ({
        linkId: Number(r.link_id),
        source: { side: from, stream: { connection: src.connection, stream: src.stream }, remoteId: r.source_remote_id },
        attachmentId: r.attachment_id,
        filename: r.filename,
        mediaType: r.media_type,
        size: r.size === null ? null : Number(r.size),
        target: { side: to, stream: { connection: tgt.connection, stream: tgt.stream }, remoteId: r.target_remote_id },
      }))
    },

    async enqueue(candidates, request): Promise<OutboxRequest[]> {
      if (candidates.length === 0) return []
      return sql.begin(async (tx) => {
        const out: OutboxRequest[] = []
        for (const c of candidates) {
          const [copy] = await tx<{ id: string }[]>`
            insert into elsync.attachment_links (mapping_id, link_id, source_connection, source_stream, source_remote_id, source_attachment_id,
              filename, size, target_connection, target_stream, target_remote_id)
            select l.mapping_id, l.id, ${c.source.stream.connection}, ${c.source.stream.stream}, ${c.source.remoteId}, ${c.attachmentId},
              ${c.filename}, ${c.size}, ${c.target.stream.connection}, ${c.target.stream.stream}, ${c.target.remoteId}
            from elsync.record_links l where l.id = ${c.linkId}
            on conflict do nothing
            returning id`
          // planned meanwhile by another reconcile
          if (!copy) continue
          const req = request(c, Number(copy.id))
          const [row] = await tx<{ id: string }[]>`
            insert into elsync.outbox (mapping_id, link_id, target, connection, stream, op, remote_id, field_values, marker, decisions)
            values (${req.mappingId}, ${req.linkId}, ${req.target}, ${req.stream.connection}, ${req.stream.stream}, ${req.op},
                    ${req.remoteId}, ${JSON.stringify(req.values)}::jsonb, ${req.marker ?? null}, '[]'::jsonb)
            returning id`
          await tx`update elsync.attachment_links set outbox_id = ${row?.id ?? null} where id = ${copy.id}`
          out.push(req)
        }
        return out
      }) as Promise<OutboxRequest[]>
    },
  }
}

/** Completes the copy record of an `attachment` row, in the transaction that marks the row sent. */
export async function saveCopyResult(tx: Tx, outboxId: number, result: AttachmentCopyResult): Promise<void> {
  await tx`
    update elsync.attachment_links set state = ${result.state}, target_attachment_id = ${result.targetAttachmentId},
      target_comment_id = ${result.targetCommentId}, reason = ${result.reason}, updated_at = now()
    where outbox_id = ${outboxId}`
}
