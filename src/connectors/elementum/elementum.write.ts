import type { MarkerFormat } from '../../engine/attribution.js'
import type { ElementumStream } from './elementum.config.js'
import type { CommentWriter, RecordWriter, RelationWriter, WritePayload } from '../../engine/ports.js'
import type { RemoteComment, RemoteRecord } from '../../engine/types.js'
import type { HttpClient, HttpResponse } from '../../http/client.js'
import { BadResponseError } from '../../http/errors.js'
import { isObject, str } from '../shared/tolerant.js'
import { hasMarkerLine, NotFoundError, RejectedError, translateWriteError, UnconfirmedWriteError } from '../shared/write.js'
import { createElementumAttachments, type ElementumAttachmentOptions } from './elementum.attachments.js'
import { createElementumApi, DEFAULT_PAGE_SIZE, paths, type ElementumApi } from './elementum.client.js'
import { toRemoteComment, toRemoteRecord, toRemoteRelation } from './elementum.normalize.js'
import { createWatcherWriter } from './elementum.watchers.js'
import { parseComment, parseRecord, parseRelation } from './elementum.schemas.js'

/**
 * Elementum's write side (DESIGN.md §1): records (POST 201 / PUT, answered with the field
 * map or `{data: {...}}`), comments (text/plain in, 201 with a plain-text answer, read back
 * from the comment list), related items and attachments (elementum.attachments.ts).
 * A POST is never repeated by the HTTP layer once it may have been processed.
 */

export interface ElementumWriteDeps {
  http: HttpClient
  /** The connection's stream by name; throws for a stream it does not have. */
  streamConfig: (stream: string) => ElementumStream
  /** The configured stream mirroring an alias (related items name the alias); null when none does. */
  streamOfAlias?: (alias: string) => string | null
  attachments?: ElementumAttachmentOptions
  /** Create-marker formats stripped from descriptions (default: elsync's own). */
  markers?: readonly MarkerFormat[]
}

export function createElementumWriters(deps: ElementumWriteDeps) {
  const api = createElementumApi(deps.http)
  const attachments = createElementumAttachments(deps.http, deps.streamConfig, deps.attachments)
  return {
    records: createRecordWriter(deps, api),
    comments: createCommentWriter(deps, api),
    relations: createRelationWriter(deps, api),
    watchers: createWatcherWriter(deps.http, deps.streamConfig),
    attachmentReader: attachments.reader,
    attachmentUploader: attachments.uploader,
  }
}

export type ElementumWriters = ReturnType<typeof createElementumWriters>

/** An `=lk=` value matching descriptions that contain `marker`; quoted when it holds RSQL's reserved characters. */
export function likeFilter(field: string, marker: string): string {
  const pattern = `*${marker}*`
  return /[\s"'();,<>~!=\\]/.test(marker) ? `${field}=lk="${pattern.replace(/["\\]/g, '\\$&')}"` : `${field}=lk=${pattern}`
}

function createRecordWriter(deps: ElementumWriteDeps, api: ElementumApi): RecordWriter {
  const { http } = deps

  /** The record an answer carries; an empty answer (204, or 201 with a Location) is read back. */
  async function recordOf(res: HttpResponse<unknown>, readBack: string | null, s: ElementumStream, what: string, signal: AbortSignal): Promise<RemoteRecord> {
    let body = res.body
    if (body === undefined || body === '') {
      const location = res.headers.location
      const path = typeof location === 'string' && location !== '' ? location : readBack
      if (path === null) throw new BadResponseError(`${what}: answered ${res.status} without the record or its Location`)
      body = (await http.request({ path, route: 'GET /{recordType}/{alias}/{id}', signal })).body
    }
    return toRemoteRecord(parseRecord(body, what), s.cursorField, deps.markers)
  }

  return {
    async create(stream, payload: WritePayload, signal) {
      const s = deps.streamConfig(stream)
      const what = `create in ${s.recordType}/${s.alias}`
      let res: HttpResponse<unknown>
      try {
        res = await http.request({ method: 'POST', path: paths.search(s), route: 'POST /{recordType}/{alias}', json: payload, signal })
      } catch (err) {
        return translateWriteError(err, what, { fields: Object.keys(payload), post: true })
      }
      try {
        // no id to read back by: an empty answer without a Location cannot be confirmed
        return await recordOf(res, null, s, what, signal)
      } catch (err) {
        throw new UnconfirmedWriteError(`${what}: created, but the answer could not be read (${(err as Error).message}); find it by its marker`, { cause: err })
      }
    },

    async update(stream, remoteId, payload, signal) {
      const s = deps.streamConfig(stream)
      const what = `update of ${s.recordType}/${s.alias}/${remoteId}`
      let res: HttpResponse<unknown>
      try {
        res = await http.request({ method: 'PUT', path: paths.record(s, remoteId), route: 'PUT /{recordType}/{alias}/{id}', json: payload, signal })
      } catch (err) {
        return translateWriteError(err, what, { fields: Object.keys(payload) })
      }
      return recordOf(res, paths.record(s, remoteId), s, what, signal)
    },

    async get(stream, remoteId, signal) {
      const s = deps.streamConfig(stream)
      const res = await http.request({ path: paths.record(s, remoteId), route: 'GET /{recordType}/{alias}/{id}', signal, allowStatus: [404] })
      return res.status === 404 ? null : toRemoteRecord(parseRecord(res.body, `${s.recordType}/${s.alias}/${remoteId}`), s.cursorField, deps.markers)
    },

    async findByMarker(stream, marker, signal) {
      const s = deps.streamConfig(stream)
      const filter = likeFilter('Description', marker)
      let after: string | undefined
      for (;;) {
        const page = await api.search(s, { filter, first: DEFAULT_PAGE_SIZE, after }, signal)
        // `=lk=` is a substring match: the marker must be a line of its own
        const hit = page.items.find((item) => hasMarkerLine(str(item.data.Description), marker))
        if (hit) return toRemoteRecord(hit.data, s.cursorField, deps.markers)
        if (!page.hasNext) return null
        if (!page.endCursor || page.endCursor === after) throw new BadResponseError(`search for marker ${marker}: has_next_page without a new end_cursor`)
        after = page.endCursor
      }
    },
  }
}

function createCommentWriter(deps: ElementumWriteDeps, api: ElementumApi): CommentWriter {
  const { http } = deps
  return {
    async add(stream, parentRemoteId, body, signal): Promise<RemoteComment> {
      const s = deps.streamConfig(stream)
      const what = `comment on ${s.recordType}/${s.alias}/${parentRemoteId}`
      if (body.trim() === '') throw new RejectedError(`${what}: a comment cannot be empty`, 'contents')
      let res: HttpResponse<string>
      try {
        res = await http.request<string>({
          method: 'POST',
          path: paths.comments(s, parentRemoteId),
          route: 'POST /{recordType}/{alias}/{id}/comment',
          body,
          headers: { 'content-type': 'text/plain; charset=utf-8' },
          expect: 'text',
          signal,
        })
      } catch (err) {
        return translateWriteError(err, what, { fields: ['contents'], post: true })
      }
      const answer = answerOf(res.body)
      if (isObject(answer) && (answer.id !== undefined || answer.commentId !== undefined)) return toRemoteComment(parentRemoteId, parseComment(answer, what))
      // the answer is the new comment's id, or nothing: the comment list has the rest
      const id = typeof answer === 'string' && answer !== '' ? answer : null
      const listed = await api.comments(s, parentRemoteId, signal)
      if (listed === null) throw new NotFoundError(`${what}: the record is gone`)
      const comments = listed.map((c, i) => parseComment(c, `${what}: comment ${i}`))
      const found = id !== null ? comments.find((c) => c.id === id) : comments.findLast((c) => c.contents === body && (c.source === null || c.source === 'API'))
      if (found) return toRemoteComment(parentRemoteId, found)
      if (id !== null) return { parentRemoteId, commentId: id, body, author: null, createdAt: null, origin: 'native', document: { id, contents: body } }
      throw new UnconfirmedWriteError(`${what}: added, but neither the answer nor the comment list shows it`)
    },

    async list(stream, parentRemoteId, signal) {
      const s = deps.streamConfig(stream)
      const listed = await api.comments(s, parentRemoteId, signal)
      return listed?.map((c, i) => toRemoteComment(parentRemoteId, parseComment(c, `comment ${i} of ${parentRemoteId}`))) ?? null
    },
  }
}

/** A plain-text answer: a JSON document, a JSON string, or the bare text. */
function answerOf(text: string): unknown {
  const t = text.trim()
  if (t.startsWith('{') || t.startsWith('"')) {
    try {
      return JSON.parse(t)
    } catch {
      /* plain text after all */
    }
  }
  return t
}

function createRelationWriter(deps: ElementumWriteDeps, api: ElementumApi): RelationWriter {
  const { http } = deps
  return {
    async list(stream, parentRemoteId, signal) {
      const s = deps.streamConfig(stream)
      const listed = await api.related(s, parentRemoteId, signal)
      if (listed === null) return null
      const streamOf = (alias: string | null) => (alias === null || alias === s.alias ? stream : (deps.streamOfAlias?.(alias) ?? null))
      return listed.map((x, i) => toRemoteRelation(parentRemoteId, parseRelation(x, `related item ${i} of ${parentRemoteId}`), streamOf))
    },

    async add(stream, parentRemoteId, related, signal) {
      const s = deps.streamConfig(stream)
      const alias = deps.streamConfig(related.stream).alias
      const what = `relating ${related.remoteId} to ${s.recordType}/${s.alias}/${parentRemoteId}`
      let res: HttpResponse<unknown>
      try {
        res = await http.request({
          method: 'POST',
          path: paths.related(s, parentRemoteId),
          route: 'POST /{recordType}/{alias}/{id}/related-items',
          json: { id: related.remoteId, alias },
          signal,
        })
      } catch (err) {
        return translateWriteError(err, what, { fields: ['id', 'alias'], post: true })
      }
      const relation = (body: unknown) => (isObject(body) ? parseRelation(body, what) : null)
      let relationId = relation(res.body)?.relationId ?? null
      if (relationId === null) {
        // the answer has no relation id: the list may; else DELETE takes the related item's id
        const listed = (await api.related(s, parentRemoteId, signal)) ?? []
        const mine = listed.map(relation).find((r) => r !== null && r.id === related.remoteId && (r.alias === null || r.alias === alias))
        relationId = mine?.relationId ?? related.remoteId
      }
      return { parentRemoteId, relatedRemoteId: related.remoteId, relatedStream: related.stream, relationId }
    },

    async remove(stream, parentRemoteId, relationId, signal) {
      const s = deps.streamConfig(stream)
      await http.request({
        method: 'DELETE',
        path: paths.relation(s, parentRemoteId, relationId),
        route: 'DELETE /{recordType}/{alias}/{id}/related-items/{relationId}',
        signal,
        expect: 'text',
        // already gone (or its record is): what the removal wanted
        allowStatus: [404],
      })
    },
  }
}
