import { setTimeout as delay } from 'node:timers/promises'
import type { ElementumStream } from './elementum.config.js'
import { SyncError } from '../../engine/errors.js'
import type { AttachmentContent, AttachmentReader, AttachmentUploader, CopyQuery, FoundCopy } from '../../engine/ports.js'
import type { RemoteAttachment } from '../../engine/types.js'
import type { HttpClient } from '../../http/client.js'
import { streamGet, streamUpload } from '../../http/stream.js'
import { extractList, firstStr, isObject, num, type Json } from '../shared/tolerant.js'
import { AttachmentProcessingError, discard, limitBytes, NotFoundError, TooLargeError, translateWriteError, UnconfirmedWriteError } from '../shared/write.js'
import { createElementumApi, paths } from './elementum.client.js'
import { toRemoteAttachment } from './elementum.normalize.js'
import { parseAttachment, parseComment } from './elementum.schemas.js'

/**
 * Elementum attachments, streamed both ways. A download reads the attachment's details
 * and follows its `contentUrl` (credentials only if it is on the API's origin). An upload is
 * multipart `file`, answered 202 while the file is processed: the upload returns once a
 * GET of the attachment says `state: VALID`, polling with a growing delay up to a deadline.
 * A copy carries its marker in the attachment's `description`, by which an attempt cut short
 * is found again (`findCopy`), still processing or not.
 */

/** The documented limit: 250 MB per file (413 above). */
export const MAX_ATTACHMENT_BYTES = 250 * 1024 * 1024

export interface ElementumAttachmentOptions {
  /** Largest file uploaded (default 250 MB); a larger one is refused with `too_large` before sending. */
  maxBytes?: number
  /** How long an upload waits for processing (default 5 minutes). */
  processingTimeoutMs?: number
  /** First delay between polls (default 500 ms), growing ×1.5 up to `maxPollDelayMs` (default 10 s). */
  pollDelayMs?: number
  maxPollDelayMs?: number
  now?: () => number
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>
}

/** The attachment in an answer: the object itself or wrapped under `data`. */
function attachmentIn(body: unknown): Json | null {
  const inner = isObject(body) && isObject(body.data) ? body.data : body
  return isObject(inner) && firstStr(inner, ['id', 'attachmentId']) !== null ? inner : null
}

const stateOf = (a: Json): string | null => firstStr(a, ['state', 'status'])?.toUpperCase() ?? null

export function createElementumAttachments(http: HttpClient, streamConfig: (stream: string) => ElementumStream, o: ElementumAttachmentOptions = {}) {
  const maxBytes = o.maxBytes ?? MAX_ATTACHMENT_BYTES
  const now = o.now ?? Date.now
  const sleep = o.sleep ?? ((ms: number, signal: AbortSignal) => delay(ms, undefined, { signal }))
  const api = createElementumApi(http)

  /** The attachment's details; null when it (or its record) is gone. */
  async function details(s: ElementumStream, parent: string, id: string, signal: AbortSignal): Promise<Json | null> {
    const res = await http.request({
      path: paths.attachment(s, parent, id),
      route: 'GET /{recordType}/{alias}/{id}/attachments/{attachmentId}',
      signal,
      allowStatus: [404],
    })
    if (res.status === 404) return null
    const a = attachmentIn(res.body)
    if (!a) throw new SyncError(`attachment ${id} of ${parent}: the answer is not an attachment`)
    return a
  }

  /** Polls until the attachment is VALID (an answer without a state counts as done). */
  async function processed(s: ElementumStream, parent: string, first: Json, signal: AbortSignal): Promise<Json> {
    const id = firstStr(first, ['id', 'attachmentId']) as string
    const deadline = now() + (o.processingTimeoutMs ?? 300_000)
    let wait = o.pollDelayMs ?? 500
    for (let a = first; ; ) {
      const state = stateOf(a)
      if (state === null || state === 'VALID') return a
      if (state === 'ERROR' || state === 'FAILED')
        throw new AttachmentProcessingError(`attachment ${id} of ${parent}: Elementum failed to process the file (state ${state})`, 'attachment_failed', id)
      if (now() + wait > deadline)
        throw new AttachmentProcessingError(
          `attachment ${id} of ${parent}: still ${state} after ${o.processingTimeoutMs ?? 300_000} ms`,
          'processing_timeout',
          id,
        )
      await sleep(wait, signal)
      wait = Math.min(o.maxPollDelayMs ?? 10_000, Math.round(wait * 1.5))
      const next = await details(s, parent, id, signal)
      if (next === null) throw new NotFoundError(`attachment ${id} of ${parent}: gone while it was processed`)
      a = next
    }
  }

  /** The record's attachments, oldest first. */
  async function list(s: ElementumStream, parent: string, signal: AbortSignal): Promise<Json[]> {
    const res = await http.request({ path: paths.attachments(s, parent), route: 'GET /{recordType}/{alias}/{id}/attachments', signal })
    const all = extractList(res.body, ['items', 'data', 'attachments'], `attachments of ${parent}`).filter(isObject)
    return all.sort((a, b) => String(a.createdAt ?? '').localeCompare(String(b.createdAt ?? '')))
  }

  const nameOf = (a: Json): string | null => firstStr(a, ['name', 'fileName', 'filename'])

  /** The uploaded attachment when the answer does not name it: the newest of that name. */
  async function findUploaded(s: ElementumStream, parent: string, filename: string, signal: AbortSignal): Promise<Json | null> {
    return (await list(s, parent, signal)).filter((a) => nameOf(a) === filename).pop() ?? null
  }

  /** A copy an earlier attempt left: by its marker in the description, else (a file) by name and size, or (a link) by url. */
  async function findCopy(s: ElementumStream, parent: string, q: CopyQuery, signal: AbortSignal): Promise<FoundCopy | null> {
    if (q.as === 'comment') {
      const comments = (await api.comments(s, parent, signal)) ?? []
      const found = comments.map((c, i) => parseComment(c, `comment ${i} of ${parent}`)).find((c) => c.contents?.includes(q.marker))
      return found ? { as: 'comment', id: found.id } : null
    }
    const usable = (await list(s, parent, signal)).filter((a) => stateOf(a) !== 'ERROR' && stateOf(a) !== 'FAILED')
    const marked = (a: Json) => (firstStr(a, ['description']) ?? '').includes(q.marker)
    const same =
      q.as === 'link'
        ? (a: Json) => q.url !== undefined && (nameOf(a) === q.url || firstStr(a, ['url']) === q.url)
        : (a: Json) => nameOf(a) === q.filename && (q.size === null || num(a.size) === q.size)
    const found = usable.filter(marked).pop() ?? usable.filter(same).pop()
    if (!found) return null
    // a file still processing counts only once it is VALID, like a fresh upload
    const done = await processed(s, parent, found, signal)
    return { as: 'attachment', id: firstStr(done, ['id', 'attachmentId']) as string }
  }

  const reader: AttachmentReader = {
    async open(stream, parentRemoteId, attachmentId, signal): Promise<AttachmentContent> {
      const s = streamConfig(stream)
      const a = await details(s, parentRemoteId, attachmentId, signal)
      if (a === null) throw new NotFoundError(`attachment ${attachmentId} of ${parentRemoteId} not found`)
      const state = stateOf(a)
      if (state === 'PROCESSING') throw new NotReadyError(`attachment ${attachmentId} of ${parentRemoteId} is still being processed`)
      const meta = parseAttachment(a, `attachment ${attachmentId}`)
      const contentUrl = firstStr(a, ['contentUrl', 'url', 'downloadUrl']) ?? `${paths.attachment(s, parentRemoteId, attachmentId)}/content`
      const res = await streamGet(http, { url: contentUrl, route: 'GET /{recordType}/{alias}/{id}/attachments/{attachmentId}/content', signal })
      const mediaType = meta.mediaType ?? (typeof res.headers['content-type'] === 'string' ? res.headers['content-type'] : null)
      return { filename: meta.name ?? attachmentId, mediaType, size: res.size, body: res.body }
    },

    async linkOf(stream, parentRemoteId, attachmentId, signal): Promise<string | null> {
      const s = streamConfig(stream)
      const a = await details(s, parentRemoteId, attachmentId, signal)
      if (a === null) throw new NotFoundError(`attachment ${attachmentId} of ${parentRemoteId} not found`)
      return firstStr(a, ['url', 'contentUrl', 'downloadUrl'])
    },
  }

  const uploader: AttachmentUploader = {
    maxBytes,
    async upload(stream, parentRemoteId, file, signal): Promise<RemoteAttachment> {
      const s = streamConfig(stream)
      const what = `upload of ${file.filename} to ${s.recordType}/${s.alias}/${parentRemoteId}`
      if (file.size !== null && file.size > maxBytes) {
        discard(file.body)
        throw new TooLargeError(`${what}: ${file.size} bytes pass Elementum's limit of ${maxBytes}`, maxBytes, file.size)
      }
      let answer: { body: unknown; headers: Record<string, string | string[] | undefined> }
      try {
        answer = await streamUpload(http, {
          path: paths.attachments(s, parentRemoteId),
          route: 'POST /{recordType}/{alias}/{id}/attachments',
          fileField: 'file',
          file: { ...file, body: limitBytes(file.body, maxBytes, what) },
          ...(file.description ? { fields: { description: file.description } } : {}),
          signal,
        })
      } catch (err) {
        return translateWriteError(err, what, { limit: maxBytes, size: file.size, fields: ['file'], post: true })
      } finally {
        discard(file.body)
      }
      const location = typeof answer.headers.location === 'string' ? answer.headers.location.split('/').pop() : undefined
      let first = attachmentIn(answer.body) ?? (location ? await details(s, parentRemoteId, decodeURIComponent(location), signal) : null)
      first ??= await findUploaded(s, parentRemoteId, file.filename, signal)
      if (first === null) throw new UnconfirmedWriteError(`${what}: accepted, but neither the answer nor the attachment list names it`)
      const done = await processed(s, parentRemoteId, first, signal)
      return toRemoteAttachment(parentRemoteId, parseAttachment(done, what))
    },

    async addLink(stream, parentRemoteId, link, signal): Promise<RemoteAttachment> {
      const s = streamConfig(stream)
      const what = `link ${link.url} on ${s.recordType}/${s.alias}/${parentRemoteId}`
      let body: unknown
      try {
        body = (
          await http.request({
            method: 'POST',
            path: paths.urlLinks(s, parentRemoteId),
            route: 'POST /{recordType}/{alias}/{id}/attachments/url-links',
            json: link,
            signal,
          })
        ).body
      } catch (err) {
        return translateWriteError(err, what, { fields: ['url', 'description'], post: true })
      }
      const a = attachmentIn(body) ?? (await findUploaded(s, parentRemoteId, link.url, signal))
      if (a === null) throw new UnconfirmedWriteError(`${what}: added, but neither the answer nor the attachment list names it`)
      return toRemoteAttachment(parentRemoteId, parseAttachment(a, what))
    },

    findCopy: (stream, parentRemoteId, query, signal) => findCopy(streamConfig(stream), parentRemoteId, query, signal),
  }

  return { reader, uploader }
}

/** The attachment exists but cannot be read yet (still processing): try again later. */
export class NotReadyError extends SyncError {
  override readonly code = 'not_ready'
  override readonly retryable = true
}
