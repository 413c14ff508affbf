import type { EleanStream } from './elean.config.js'
import type { AttachmentContent, AttachmentReader, AttachmentUploader, CopyQuery, FoundCopy } from '../../engine/ports.js'
import type { RemoteAttachment } from '../../engine/types.js'
import type { HttpClient } from '../../http/client.js'
import { HttpStatusError } from '../../http/errors.js'
import { streamGet, streamUpload } from '../../http/stream.js'
import { firstStr, isObject, num, requireId, type Json } from '../shared/tolerant.js'
import { discard, limitBytes, NotFoundError, TooLargeError, UnconfirmedWriteError } from '../shared/write.js'
import { createEleanApi, explainWrite, paths } from './elean.client.js'
import { parseTask } from './elean.schemas.js'

/**
 * Elean attachments, streamed both ways. An attachment's details carry a presigned download
 * URL valid for one hour: it is kept (Elean allows 60 requests a minute) and used without
 * the API key. A URL past its hour, or refused with 403/410, is replaced by fetching the
 * details again, and the download is tried once more. Uploads are multipart `file`, 10 MB
 * at most: a larger file is refused before sending, or when its bytes pass the limit.
 * A file keeps no text beside it, so a copy an attempt cut short is found again by name and
 * size; a link in place of a file is a comment (Elean has no url-links), found by its marker.
 */

/** The documented limit: 10 MB per file. */
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
/** A presigned URL lives one hour; one is not started in its last minute. */
const URL_TTL_MS = 3_600_000
const URL_MARGIN_MS = 60_000
const CACHED_URLS = 500

export interface EleanAttachmentOptions {
  /** Largest file uploaded (default 10 MB); a larger one is refused with `too_large` before sending. */
  maxBytes?: number
  now?: () => number
}

interface Details {
  id: string
  filename: string | null
  mediaType: string | null
  size: number | null
  createdAt: string | null
  url: string | null
  /** When the URL stops working (the answer's expiry, else one hour after it was read). */
  expiresAt: number
  /** The answer without its URL: a presigned URL is a credential and is never mirrored. */
  document: Json
}

function detailsOf(body: unknown, what: string, readAt: number): Details {
  const a = isObject(body) && isObject(body.data) && !('id' in body) ? body.data : body
  const id = requireId(a, ['id', 'attachmentId'], what)
  const o = a as Json
  const { url: _url, downloadUrl: _downloadUrl, ...document } = o
  const expiry = Date.parse(firstStr(o, ['expiresAt', 'urlExpiresAt', 'expires_at']) ?? '')
  return {
    id,
    filename: firstStr(o, ['filename', 'fileName', 'name']),
    mediaType: firstStr(o, ['mimeType', 'mediaType', 'contentType']),
    size: num(o.size),
    createdAt: firstStr(o, ['createdAt', 'created_at']),
    url: firstStr(o, ['url', 'downloadUrl']),
    expiresAt: Number.isNaN(expiry) ? readAt + URL_TTL_MS : expiry,
    document,
  }
}

const toRemote = (parentRemoteId: string, d: Details): RemoteAttachment => ({
  parentRemoteId,
  attachmentId: d.id,
  filename: d.filename,
  mediaType: d.mediaType,
  size: d.size,
  createdAt: d.createdAt,
  document: d.document,
})

/** A 400 about the file's size is Elean's other way of saying 413. */
const SIZE_REFUSAL = /too large|exceed|maximum|size|limit/i

export function createEleanAttachments(http: HttpClient, streamConfig: (stream: string) => EleanStream, o: EleanAttachmentOptions = {}) {
  const maxBytes = o.maxBytes ?? MAX_ATTACHMENT_BYTES
  const now = o.now ?? Date.now
  const api = createEleanApi(http)
  const urls = new Map<string, Details>()
  const keep = (project: string, d: Details): Details => {
    urls.delete(`${project}/${d.id}`)
    urls.set(`${project}/${d.id}`, d)
    if (urls.size > CACHED_URLS) urls.delete(urls.keys().next().value as string)
    return d
  }

  async function details(project: string, taskId: string, attachmentId: string, signal: AbortSignal): Promise<Details> {
    const what = `attachment ${attachmentId} of ${project}/${taskId}`
    let res: { status: number; body: unknown }
    try {
      res = await http.request({
        path: paths.attachment(project, taskId, attachmentId),
        route: 'GET /{project}/tasks/{taskId}/attachments/{attachmentId}',
        signal,
        allowStatus: [404],
      })
    } catch (err) {
      return explainWrite(err, http.name, project, 'task:read', what, { fields: [] })
    }
    if (res.status === 404) throw new NotFoundError(`${what} not found`)
    return keep(project, detailsOf(res.body, what, now()))
  }

  const download = (d: Details, retry: boolean, signal: AbortSignal) =>
    streamGet(http, {
      url: d.url ?? '',
      route: 'GET presigned attachment URL',
      // a presigned URL is its own credential: the API key must never reach the file store
      credentials: false,
      signal,
      ...(retry ? { allowStatus: [403, 410] } : {}),
    })

  const reader: AttachmentReader = {
    async open(stream, parentRemoteId, attachmentId, signal): Promise<AttachmentContent> {
      const { project } = streamConfig(stream)
      const kept = urls.get(`${project}/${attachmentId}`)
      let d = kept && kept.url !== null && kept.expiresAt - URL_MARGIN_MS > now() ? kept : await details(project, parentRemoteId, attachmentId, signal)
      if (d.url === null) throw new UnconfirmedWriteError(`attachment ${attachmentId} of ${project}/${parentRemoteId}: its details carry no download URL`)
      let res = await download(d, true, signal)
      if (res.status === 403 || res.status === 410) {
        // expired (or revoked) since it was issued: a fresh URL, and one more try
        await res.body.return()
        urls.delete(`${project}/${attachmentId}`)
        d = await details(project, parentRemoteId, attachmentId, signal)
        res = await download(d, false, signal)
      }
      const mediaType = d.mediaType ?? (typeof res.headers['content-type'] === 'string' ? res.headers['content-type'] : null)
      return { filename: d.filename ?? attachmentId, mediaType, size: res.size, body: res.body }
    },
  }

  /** The task's attachment ids of this name, newest last (the task lists its attachments by id and filename). */
  async function named(project: string, taskId: string, filename: string, signal: AbortSignal): Promise<string[]> {
    const task = parseTask((await http.request({ path: paths.task(project, taskId), route: 'GET /{project}/tasks/{taskId}', signal })).body, `task ${taskId}`)
    const listed = Array.isArray(task.attachments) ? task.attachments.filter(isObject) : []
    return listed.filter((a) => firstStr(a, ['filename', 'name']) === filename).map((a) => requireId(a, ['id'], `attachment of ${taskId}`))
  }

  async function findCopy(project: string, taskId: string, q: CopyQuery, signal: AbortSignal): Promise<FoundCopy | null> {
    if (q.as === 'link') return null
    if (q.as === 'comment') {
      const found = ((await api.comments(project, taskId, signal)) ?? []).find((c) => c.content?.includes(q.marker))
      return found ? { as: 'comment', id: found.id } : null
    }
    // newest first: the size is read from each one's details (the listing has none)
    for (const id of (await named(project, taskId, q.filename, signal)).reverse()) {
      const d = await details(project, taskId, id, signal)
      if (q.size === null || d.size === null || d.size === q.size) return { as: 'attachment', id }
    }
    return null
  }

  const uploader: AttachmentUploader = {
    findCopy: (stream, parentRemoteId, query, signal) => findCopy(streamConfig(stream).project, parentRemoteId, query, signal),
    maxBytes,
    async upload(stream, parentRemoteId, file, signal): Promise<RemoteAttachment> {
      const { project } = streamConfig(stream)
      const what = `upload of ${file.filename} to ${project}/${parentRemoteId}`
      if (file.size !== null && file.size > maxBytes) {
        discard(file.body)
        throw new TooLargeError(`${what}: ${file.size} bytes pass Elean's limit of ${maxBytes}`, maxBytes, file.size)
      }
      let body: unknown
      try {
        body = (
          await streamUpload(http, {
            path: paths.attachments(project, parentRemoteId),
            route: 'POST /{project}/tasks/{taskId}/attachments',
            fileField: 'file',
            file: { ...file, body: limitBytes(file.body, maxBytes, what) },
            signal,
          })
        ).body
      } catch (err) {
        if (err instanceof HttpStatusError && (err.status === 413 || (err.status === 400 && SIZE_REFUSAL.test(err.message))))
          throw new TooLargeError(`${what}: refused as too large (limit ${maxBytes} bytes): ${err.message}`, maxBytes, file.size, { cause: err })
        return explainWrite(err, http.name, project, 'task:create', what, { fields: ['file'], post: true })
      } finally {
        discard(file.body)
      }
      if (isObject(body) && (body.id !== undefined || isObject(body.data))) return toRemote(parentRemoteId, keep(project, detailsOf(body, what, now())))
      // no attachment in the answer: the task lists its attachments by id and filename
      const mine = (await named(project, parentRemoteId, file.filename, signal)).pop()
      if (mine === undefined) throw new UnconfirmedWriteError(`${what}: accepted, but neither the answer nor the task lists it`)
      return toRemote(parentRemoteId, keep(project, await details(project, parentRemoteId, mine, signal)))
    },
  }

  return { reader, uploader }
}
