import { formatAttribution } from './attribution.js'
import { formatBytes, type AttachmentCopySpec } from './children.attachments.js'
import { SyncError } from './errors.js'
import type { AttachmentContent, AttachmentReader, AttachmentUploader, Connector, CopyQuery } from './ports.js'
import type { AttachmentCopyResult, OutboxRow, PushResult } from './write.types.js'

/**
 * One `attachment` outbox row: a file copied from the source record to its counterpart,
 * the download piped into the upload (never held whole), and done only once the target has
 * processed it (the uploader waits for Elementum's VALID).
 *
 * Every attempt first looks for the copy on the target (`findCopy`: the marker, else the same
 * name and size), so an attempt cut short after the upload (a crash, a lost answer, a
 * processing wait past its deadline) finds it instead of uploading it twice.
 *
 * A file larger than the target takes follows the mapping's `oversize`: `link` puts a link
 * to the source in its place (an url-link where the target has them, else a comment carrying
 * it), `comment` always a comment, `skip` nothing; all three are recorded. A source that is
 * itself a link (an Elementum url-link) is copied as a link.
 */

/** The row's target cannot take attachments, or its source cannot give them: config validation should have refused the mapping. */
export class AttachmentUnsupportedError extends SyncError {
  override readonly code = 'attachment_unsupported'
}

const LINK_MEDIA_TYPE = 'text/uri-list'

const errorCode = (err: unknown): string | undefined => (err instanceof SyncError ? err.code : undefined)

function specOf(row: OutboxRow): AttachmentCopySpec {
  const v = row.values as Partial<AttachmentCopySpec>
  if (typeof v.copyId !== 'number' || typeof v.marker !== 'string' || !v.source || typeof v.source.attachmentId !== 'string')
    throw new AttachmentUnsupportedError(`outbox row ${row.id}: not an attachment copy (its values lack the copy's source or marker)`)
  return v as AttachmentCopySpec
}

/** Closes a download that will not be read, so the connection behind it ends. */
function close(file: AttachmentContent | null): void {
  file?.body[Symbol.asyncIterator]()
    .return?.()
    ?.catch(() => {})
}

export function pushAttachment(row: OutboxRow, target: Connector, connectorOf: (connection: string) => Connector, signal: AbortSignal): Promise<PushResult> {
  const spec = specOf(row)
  const parent = row.remoteId
  if (parent === null) throw new AttachmentUnsupportedError(`outbox row ${row.id}: the target record is not known`)
  const uploader = target.attachmentUploader
  const reader = connectorOf(spec.source.connection).attachmentReader
  if (!uploader) throw new AttachmentUnsupportedError(`connection ${row.stream.connection} (kind ${target.kind}) cannot take attachments`)
  if (!reader) throw new AttachmentUnsupportedError(`connection ${spec.source.connection} cannot read attachments`)
  return copy({ spec, target, stream: row.stream.stream, parent, uploader, reader, signal })
}

interface Copy {
  spec: AttachmentCopySpec
  target: Connector
  stream: string
  /** The target record. */
  parent: string
  uploader: AttachmentUploader
  reader: AttachmentReader
  signal: AbortSignal
}

async function copy({ spec, target, stream, parent, uploader, reader, signal }: Copy): Promise<PushResult> {
  const done = (r: Partial<AttachmentCopyResult> & Pick<AttachmentCopyResult, 'state'>): PushResult => ({
    remoteId: parent,
    record: null,
    attachment: { targetAttachmentId: null, targetCommentId: null, reason: null, ...r },
  })
  const find = (q: Omit<CopyQuery, 'filename' | 'size' | 'marker'> & Partial<CopyQuery>) =>
    uploader.findCopy?.(stream, parent, { filename: spec.filename ?? spec.source.attachmentId, size: spec.size, marker: spec.marker, ...q }, signal) ?? null
  const name = (file: AttachmentContent | null) => file?.filename ?? spec.filename ?? spec.source.attachmentId

  /** The source's download; null when the attachment (or its record) is gone at the source. */
  async function open(): Promise<AttachmentContent | null> {
    try {
      return await reader.open(spec.source.stream, spec.source.remoteId, spec.source.attachmentId, signal)
    } catch (err) {
      if (errorCode(err) === 'not_found') return null
      throw err
    }
  }

  /** A link to the source in place of the file (`why` says why), as the policy and the target allow. */
  async function placeLink(why: string, filename: string, size: number | null, policy: 'link' | 'comment'): Promise<PushResult> {
    const url = await reader.linkOf?.(spec.source.stream, spec.source.remoteId, spec.source.attachmentId, signal)
    if (!url) return done({ state: 'skipped', reason: `${why}; the source has no lasting link to put in its place` })
    const about = `${filename}${size === null ? '' : ` (${formatBytes(size)})`}`
    if (policy === 'link' && uploader.addLink) {
      const found = await find({ as: 'link', url })
      if (found) return done({ state: 'linked', targetAttachmentId: found.id, reason: `${why} (an earlier attempt's link)` })
      const link = await uploader.addLink(stream, parent, { url, description: `${about}: ${why}\n${spec.marker}` }, signal)
      return done({ state: 'linked', targetAttachmentId: link.attachmentId, reason: why })
    }
    if (!target.comments) return done({ state: 'skipped', reason: `${why}; the target takes neither links nor comments` })
    const found = await find({ as: 'comment' })
    if (found) return done({ state: 'linked', targetCommentId: found.id, reason: `${why} (an earlier attempt's comment)` })
    // attributed like a copied comment, so that no comment copy takes it back to the source
    const text = formatAttribution(`Attachment ${about}: ${why}. It is here: ${url}\n${spec.marker}`, 'elsync', spec.source.connection)
    const comment = await target.comments.add(stream, parent, text, signal)
    return done({ state: 'linked', targetCommentId: comment.commentId, reason: why })
  }

  async function oversize(file: AttachmentContent | null, size: number | null): Promise<PushResult> {
    close(file)
    const why = `${size === null ? 'the file' : `${size} bytes`} pass${size === null ? 'es' : ''} ${target.kind}'s limit of ${uploader.maxBytes} bytes`
    if (spec.oversize === 'skip') return done({ state: 'skipped', reason: why })
    return placeLink(why, name(file), size, spec.oversize)
  }

  if (spec.mediaType === LINK_MEDIA_TYPE && spec.size === 0) {
    return placeLink('the source is a link', spec.filename ?? spec.source.attachmentId, null, spec.oversize === 'comment' ? 'comment' : 'link')
  }
  let file: AttachmentContent | null = null
  let size = spec.size
  // the size decides between a file and a link: unknown in the source's listing (Elean), it comes with the download
  if (size === null) {
    file = await open()
    if (file === null) return done({ state: 'skipped', reason: 'gone at the source' })
    size = file.size
  }
  if (size !== null && size > uploader.maxBytes) return oversize(file, size)
  const found = await find({ as: 'file', filename: name(file), size })
  if (found) {
    close(file)
    return done({ state: 'copied', targetAttachmentId: found.id, reason: 'found on the target (copied by an earlier attempt)' })
  }
  file ??= await open()
  if (file === null) return done({ state: 'skipped', reason: 'gone at the source' })
  if (file.size !== null && file.size > uploader.maxBytes) return oversize(file, file.size)
  try {
    const copy = await uploader.upload(stream, parent, { ...file, description: spec.marker }, signal)
    return done({ state: 'copied', targetAttachmentId: copy.attachmentId })
  } catch (err) {
    // a size unknown until the bytes passed the limit
    if (errorCode(err) === 'too_large') return oversize(file, size)
    throw err
  } finally {
    // the uploader closes what it read; a download it never started must not stay open either
    close(file)
  }
}
