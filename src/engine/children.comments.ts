import { formatAttribution, hasAttribution, parseAttribution } from './attribution.js'
import { SyncError } from './errors.js'
import type { Connector, CommentWriter } from './ports.js'
import type { StreamRef } from './types.js'
import type { MappingSpec, OutboxRequest, OutboxRow, PushResult, ReconcileTx, Side } from './write.types.js'

/**
 * Comments are merged, never overwritten (DESIGN §2): each human comment of a linked record is
 * copied once to the counterpart, oldest first, as the original text, a blank line and
 * `— <author> via <system>`. Planning (here, from reconcile) queues one outbox row `comment` per
 * copy and, in the same transaction, a comment link from the original to it; pushing (here,
 * from push.row.ts) posts it and records the copy's id on the link.
 *
 * A comment is never copied back: copies carry the footer (the connectors mirror them with
 * origin `synced`), and the link names the copy as its original's target, which also covers a
 * copy whose footer a human removed on a vendor without a `source` field (Elean). An original
 * edited or deleted later changes nothing on the other side: it was copied once, and neither
 * vendor's API can edit or delete a comment.
 *
 * After a crash between the post and its bookkeeping, the next attempt looks the copy up on the
 * target (the same text with the same footer) before posting again.
 */

/** Comments planned per mapping and side in one reconcile; the rest wait for the next one. */
export const COMMENTS_PER_RECONCILE = 500

export interface CopyCommentsOptions {
  mapping: MappingSpec
  streams: Record<Side, StreamRef>
  /** The name each side's system goes by in the footer (`via Elean`). */
  systems: Record<Side, string>
  limit?: number
}

export interface PlannedCopy {
  request: OutboxRequest
  /** `comment elean WEB-3 ← elementum TSK-1 comment 7f3a…`. */
  line: string
}

/** The sides whose comments a mapping's `comments` direction copies. */
export function commentSources(direction: MappingSpec['comments']): Side[] {
  switch (direction) {
    case 'both':
      return ['left', 'right']
    case 'left-to-right':
      return ['left']
    case 'right-to-left':
      return ['right']
    default:
      return []
  }
}

/** Plans the copies of every human comment not copied yet, in `tx` (the reconcile's transaction). */
export async function copyComments(tx: ReconcileTx, opts: CopyCommentsOptions): Promise<PlannedCopy[]> {
  const { mapping, streams, systems } = opts
  const store = tx.comments
  if (!store) return []
  const planned: PlannedCopy[] = []
  for (const side of commentSources(mapping.comments)) {
    const target: Side = side === 'left' ? 'right' : 'left'
    for (const c of await store.candidates(mapping.id, side, streams[side], opts.limit ?? COMMENTS_PER_RECONCILE)) {
      const request: OutboxRequest = {
        mappingId: mapping.id,
        linkId: c.linkId,
        target,
        stream: streams[target],
        op: 'comment',
        remoteId: c.targetRemoteId,
        values: { body: formatAttribution(c.body, c.author, systems[side]) },
        decisions: [],
      }
      if ((await store.planCopy(c, request)) === null) continue
      const to = `${streams[target].connection} ${c.targetRemoteId ?? '(being created)'}`
      planned.push({ request, line: `comment ${to} ← ${streams[side].connection} ${c.parentRemoteId} comment ${c.commentId}` })
    }
  }
  return planned
}

// ---------------------------------------------------------------- push

/** A comment row that can never be posted as it stands: parked as dead. */
export class CommentImpossibleError extends SyncError {
  override readonly code: 'write_unsupported' | 'no_remote_id' | 'no_body'
  constructor(code: CommentImpossibleError['code'], message: string) {
    super(message)
    this.code = code
  }
}

/** Line breaks as LF and outer whitespace trimmed: what a vendor may have normalized in what it stores. */
const normalized = (s: string | null): string => (s ?? '').replace(/\r\n?/g, '\n').trim()

/** The copy's text within the vendor's limit: the original is cut (with an ellipsis), the footer kept whole. */
export function fitComment(body: string, maxChars: number | undefined): string {
  if (maxChars === undefined || body.length <= maxChars) return body
  const a = parseAttribution(body)
  if (!a) return body.slice(0, maxChars)
  const footer = formatAttribution('', a.author, a.system).length
  return formatAttribution(`${a.text.slice(0, Math.max(0, maxChars - footer - 1))}…`, a.author, a.system)
}

/** The copy already on the target: the newest comment with the same text and footer. */
async function findCopy(writer: CommentWriter, stream: string, parent: string, body: string, signal: AbortSignal) {
  const want = normalized(body)
  const listed = await writer.list(stream, parent, signal)
  return listed?.findLast((c) => hasAttribution(c.body) && normalized(c.body) === want) ?? null
}

/** Posts one planned copy; on a later attempt (the first may have reached the vendor) looks for it first. */
export async function pushComment(row: OutboxRow, connector: Connector, signal: AbortSignal): Promise<PushResult> {
  const where = `outbox row ${row.id} (comment in ${row.stream.connection}/${row.stream.stream})`
  const writer = connector.comments
  if (!writer)
    throw new CommentImpossibleError('write_unsupported', `${where}: connection ${row.stream.connection} (kind ${connector.kind}) cannot write comments`)
  if (row.remoteId === null) throw new CommentImpossibleError('no_remote_id', `${where}: the target record is not known (its create was not sent)`)
  const planned = row.values.body
  if (typeof planned !== 'string' || planned.trim() === '') throw new CommentImpossibleError('no_body', `${where}: the row has no comment text`)
  const body = fitComment(planned, writer.maxChars)
  const stream = row.stream.stream
  // attempts counts this one: an earlier attempt may have posted before its answer or bookkeeping was lost
  if (row.attempts > 1) {
    const found = await findCopy(writer, stream, row.remoteId, body, signal)
    if (found) return { remoteId: row.remoteId, childId: found.commentId, record: null }
  }
  const posted = await writer.add(stream, row.remoteId, body, signal)
  return { remoteId: row.remoteId, childId: posted.commentId, record: null }
}
