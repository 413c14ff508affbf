import { streamOf } from './project.js'
import type { StreamRef } from './types.js'
import type { MappingSpec, OutboxRequest, Side } from './write.types.js'

/**
 * Attachments copied between linked records (DESIGN §2, a mapping's `attachments`): the
 * planning half. The push half is push.attachment.ts.
 *
 * Adding a file does not change its record's version (Elementum's `Updated on`), so copies
 * are not planned from the change log: each reconcile pass asks the store for attachments of
 * linked records that have no copy record yet (a set difference, one query per direction),
 * and queues one `attachment` outbox row each. A copy record (`attachment_links`) is written
 * with its row, `pending` until the push says what became of it: `copied` (the file, or one
 * found there from an earlier attempt), `linked` (a link in its place) or `skipped`.
 *
 * Never copied back: an attachment that is the target of a copy record is not a candidate,
 * and while a copy into a record is pending, none of that record's attachments is (the
 * copy may already be on the vendor, listed by a poll, before the push records its id).
 */

/** An attachment of a linked record that has not been copied to the counterpart yet. */
export interface AttachmentCandidate {
  linkId: number
  /** The record that has the attachment. */
  source: { side: Side; stream: StreamRef; remoteId: string }
  attachmentId: string
  filename: string | null
  mediaType: string | null
  size: number | null
  /** The counterpart, which gets the copy. */
  target: { side: Side; stream: StreamRef; remoteId: string }
}

/** What the push of one copy needs, stored as the outbox row's `values`. */
export interface AttachmentCopySpec {
  /** The copy record's id (`attachment_links.id`). */
  copyId: number
  source: StreamRef & { remoteId: string; attachmentId: string }
  filename: string | null
  mediaType: string | null
  /** Bytes, when the source's listing gave them. */
  size: number | null
  oversize: 'link' | 'comment' | 'skip'
  /** Left on the copy (Elementum description, the link comment's text) so a later attempt finds it. */
  marker: string
}

/** The store of copy records; implemented over Postgres by `createPgAttachmentCopies`. */
export interface AttachmentCopyStore {
  /** Up to `limit` attachments on `from`'s records of this mapping's linked pairs that need a copy, oldest first. */
  candidates(mapping: MappingSpec, from: Side, limit: number): Promise<AttachmentCandidate[]>
  /**
   * Records each candidate's copy as pending and queues its outbox row, in one transaction;
   * `request` builds the row once the copy has its id. Candidates planned meanwhile (by
   * another reconcile) are left out of the answer.
   */
  enqueue(candidates: readonly AttachmentCandidate[], request: (c: AttachmentCandidate, copyId: number) => OutboxRequest): Promise<OutboxRequest[]>
}

/** The copy's marker line: the mapping and the copy record's id. Not the create marker's shape (`elsync:<mapping>:<link>`). */
export const copyMarker = (mappingId: string, copyId: number): string => `elsync-copy:${mappingId}:${copyId}`

/** Candidates planned per direction and pass: a backlog is worked off over the following passes. */
export const PLAN_LIMIT = 200

export interface AttachmentPlan {
  requests: OutboxRequest[]
  plan: string[]
}

/** The sides attachments flow from, by the mapping's direction. */
function sourcesOf(mapping: MappingSpec): Side[] {
  const direction = mapping.attachments?.direction ?? 'none'
  const out: Side[] = []
  if (direction === 'both' || direction === 'left-to-right') out.push('left')
  if (direction === 'both' || direction === 'right-to-left') out.push('right')
  return out
}

export function copyRequest(mapping: MappingSpec, c: AttachmentCandidate, copyId: number): OutboxRequest {
  const marker = copyMarker(mapping.id, copyId)
  const spec: AttachmentCopySpec = {
    copyId,
    source: { ...c.source.stream, remoteId: c.source.remoteId, attachmentId: c.attachmentId },
    filename: c.filename,
    mediaType: c.mediaType,
    size: c.size,
    oversize: mapping.attachments?.oversize ?? 'link',
    marker,
  }
  return {
    mappingId: mapping.id,
    linkId: c.linkId,
    target: c.target.side,
    stream: streamOf(mapping, c.target.side),
    op: 'attachment',
    remoteId: c.target.remoteId,
    values: spec as unknown as Record<string, unknown>,
    marker,
    decisions: [],
  }
}

/** `attach elean 6f1c… ← elementum TSK-4 scan.pdf (5.0 MB)`: one line per planned copy. */
export function attachmentPlanLine(req: OutboxRequest): string {
  const spec = req.values as unknown as Partial<AttachmentCopySpec>
  const from = spec.source ? ` ← ${spec.source.connection} ${spec.source.remoteId}` : ''
  const size = typeof spec.size === 'number' ? ` (${formatBytes(spec.size)})` : ''
  return `attach ${req.stream.connection} ${req.remoteId ?? '?'}${from} ${JSON.stringify(spec.filename ?? spec.source?.attachmentId ?? '?')}${size}`
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`
  return `${(n / 1024 / 1024).toFixed(1)} MB`
}

/**
 * Plans the copies one mapping owes (nothing when its `attachments` direction is `none`).
 * A dry run reads the candidates and writes nothing.
 */
export async function planAttachments(mapping: MappingSpec, store: AttachmentCopyStore, opts: { dryRun?: boolean } = {}): Promise<AttachmentPlan> {
  const out: AttachmentPlan = { requests: [], plan: [] }
  for (const from of sourcesOf(mapping)) {
    const candidates = await store.candidates(mapping, from, PLAN_LIMIT)
    if (candidates.length === 0) continue
    const requests = opts.dryRun
      ? candidates.map((c) => copyRequest(mapping, c, 0))
      : await store.enqueue(candidates, (c, copyId) => copyRequest(mapping, c, copyId))
    out.requests.push(...requests)
    out.plan.push(...requests.map(attachmentPlanLine))
  }
  return out
}
