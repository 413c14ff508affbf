import type { MarkerFormat } from '../../engine/attribution.js'
import type { EleanStream } from './elean.config.js'
import type { CommentWriter, RecordWriter, WritePayload } from '../../engine/ports.js'
import type { RemoteComment, RemoteRecord } from '../../engine/types.js'
import type { HttpClient, HttpResponse } from '../../http/client.js'
import { createPageGuard } from '../shared/paging.js'
import { isObject, type Json } from '../shared/tolerant.js'
import { hasMarkerLine, NotFoundError, RejectedError, TooLargeError, UnconfirmedWriteError } from '../shared/write.js'
import { createEleanAttachments, type EleanAttachmentOptions } from './elean.attachments.js'
import { explainWrite, PAGE_LIMIT, paths } from './elean.client.js'
import { needsStatusList, normalizeComment, normalizeTask, statusLookup, type StatusLookup } from './elean.normalize.js'
import { isLastPage } from './elean.read.js'
import { parseComments, parseStatuses, parseTask, parseTaskList } from './elean.schemas.js'

/**
 * Elean's write side (DESIGN.md §1): tasks (POST 201, PATCH, DELETE), comments (`{content}`,
 * 1–10 000 characters) and attachments (elean.attachments.ts). The key's scopes decide what
 * it may do (`task:create`, `task:update`); a 403 says which one was missing.
 */

export interface EleanWriteDeps {
  http: HttpClient
  /** The connection's stream by name; throws for a stream it does not have. */
  streamConfig: (stream: string) => EleanStream
  /** The project's statuses, when the connector caches them; else they are read when a task needs them. */
  statuses?: (project: string, signal: AbortSignal) => Promise<StatusLookup>
  attachments?: EleanAttachmentOptions
  /** Create-marker formats stripped from descriptions (default: elsync's own). */
  markers?: readonly MarkerFormat[]
}

/** Elean's documented comment limit, in characters. */
export const MAX_COMMENT_CHARS = 10_000

const TASK_FIELDS = ['title', 'description', 'priority', 'dueDate', 'statusId']

export function createEleanWriters(deps: EleanWriteDeps) {
  const attachments = createEleanAttachments(deps.http, deps.streamConfig, deps.attachments)
  return {
    records: createRecordWriter(deps),
    comments: createCommentWriter(deps),
    attachmentReader: attachments.reader,
    attachmentUploader: attachments.uploader,
  }
}

export type EleanWriters = ReturnType<typeof createEleanWriters>

function createRecordWriter(deps: EleanWriteDeps): RecordWriter {
  const { http } = deps

  async function normalized(project: string, task: Json & { id: string }, signal: AbortSignal): Promise<RemoteRecord> {
    if (!needsStatusList(task)) return normalizeTask(task, null, deps.markers)
    const lookup = deps.statuses
      ? await deps.statuses(project, signal)
      : statusLookup(parseStatuses((await http.request({ path: paths.statuses(project), route: 'GET /{project}/statuses', signal })).body, 'statuses'))
    return normalizeTask(task, lookup, deps.markers)
  }

  /** Pages of the task list (optionally searched), until `match` finds one or the list ends. */
  async function scan(project: string, search: string | undefined, match: (t: Json) => boolean, signal: AbortSignal): Promise<(Json & { id: string }) | null> {
    const guard = createPageGuard(`GET ${project}/tasks`)
    for (let page = 1; ; page++) {
      guard.next()
      const res = await http.request({ path: paths.tasks(project), route: 'GET /{project}/tasks', signal, searchParams: { page, limit: PAGE_LIMIT, search } })
      const list = parseTaskList(res.body, `GET ${project}/tasks page ${page}`)
      const hit = list.tasks.find(match)
      if (hit) return hit
      if (isLastPage(list, page)) return null
    }
  }

  return {
    async create(stream, payload: WritePayload, signal) {
      const { project } = deps.streamConfig(stream)
      const what = `create in ${project}`
      let res: HttpResponse<unknown>
      try {
        res = await http.request({ method: 'POST', path: paths.tasks(project), route: 'POST /{project}/tasks', json: payload, signal })
      } catch (err) {
        return explainWrite(err, http.name, project, 'task:create', what, { fields: TASK_FIELDS, post: true })
      }
      let task: Json & { id: string }
      try {
        task = parseTask(res.body, what)
      } catch (err) {
        throw new UnconfirmedWriteError(`${what}: created, but the answer could not be read (${(err as Error).message}); find it by its marker`, { cause: err })
      }
      return normalized(project, task, signal)
    },

    async update(stream, remoteId, payload, signal) {
      const { project } = deps.streamConfig(stream)
      const what = `update of ${project}/${remoteId}`
      let res: HttpResponse<unknown>
      try {
        res = await http.request({ method: 'PATCH', path: paths.task(project, remoteId), route: 'PATCH /{project}/tasks/{taskId}', json: payload, signal })
      } catch (err) {
        return explainWrite(err, http.name, project, 'task:update', what, { fields: TASK_FIELDS })
      }
      return normalized(project, parseTask(res.body, what), signal)
    },

    async get(stream, remoteId, signal) {
      const { project } = deps.streamConfig(stream)
      const res = await http.request({ path: paths.task(project, remoteId), route: 'GET /{project}/tasks/{taskId}', signal, allowStatus: [404] })
      return res.status === 404 ? null : normalized(project, parseTask(res.body, `${project}/${remoteId}`), signal)
    },

    /** Permanent (the docs); the key needs task:update. A task already gone answers 404: NotFoundError. */
    async delete(stream, remoteId, signal) {
      const { project } = deps.streamConfig(stream)
      try {
        // documented answer `{success: true}`; read as text, so that an empty 204 is fine too
        await http.request({ method: 'DELETE', path: paths.task(project, remoteId), route: 'DELETE /{project}/tasks/{taskId}', expect: 'text', signal })
      } catch (err) {
        explainWrite(err, http.name, project, 'task:update', `delete of ${project}/${remoteId}`, { fields: [] })
      }
    },

    /**
     * The list's `search` covers title and external id (per the docs), perhaps the
     * description: ask it first (one request), then, when that finds nothing, scan the
     * project's list. Only a description with the marker as a line of its own counts.
     */
    async findByMarker(stream, marker, signal) {
      const { project } = deps.streamConfig(stream)
      const match = (t: Json) => typeof t.description === 'string' && hasMarkerLine(t.description, marker)
      const found = (await scan(project, marker, match, signal)) ?? (await scan(project, undefined, match, signal))
      return found ? normalized(project, found, signal) : null
    },
  }
}

function createCommentWriter(deps: EleanWriteDeps): CommentWriter {
  const { http } = deps
  return {
    maxChars: MAX_COMMENT_CHARS,

    async list(stream, parentRemoteId, signal) {
      const { project } = deps.streamConfig(stream)
      const listed = await http.request({
        path: paths.comments(project, parentRemoteId),
        route: 'GET /{project}/tasks/{taskId}/comments',
        signal,
        allowStatus: [404],
      })
      if (listed.status === 404) return null
      return parseComments(listed.body, `comments of ${parentRemoteId}`).map((c) => normalizeComment(parentRemoteId, c))
    },

    async add(stream, parentRemoteId, body, signal): Promise<RemoteComment> {
      const { project } = deps.streamConfig(stream)
      const what = `comment on ${project}/${parentRemoteId}`
      if (body.trim() === '') throw new RejectedError(`${what}: a comment cannot be empty`, 'content')
      if (body.length > MAX_COMMENT_CHARS)
        throw new TooLargeError(`${what}: ${body.length} characters pass Elean's limit of ${MAX_COMMENT_CHARS}`, MAX_COMMENT_CHARS, body.length)
      let res: HttpResponse<unknown>
      const path = paths.comments(project, parentRemoteId)
      try {
        res = await http.request({ method: 'POST', path, route: 'POST /{project}/tasks/{taskId}/comments', json: { content: body }, signal })
      } catch (err) {
        return explainWrite(err, http.name, project, 'task:update', what, { fields: ['content'], post: true })
      }
      const answer = isObject(res.body) && isObject(res.body.data) ? res.body.data : res.body
      if (isObject(answer) && answer.id !== undefined) {
        const [comment] = parseComments([answer], what)
        if (comment) return normalizeComment(parentRemoteId, comment)
      }
      // no comment in the answer: the newest one with this text is ours
      const listed = await http.request({ path, route: 'GET /{project}/tasks/{taskId}/comments', signal, allowStatus: [404] })
      if (listed.status === 404) throw new NotFoundError(`${what}: the task is gone`)
      const mine = parseComments(listed.body, `comments of ${parentRemoteId}`).findLast((c) => c.content === body)
      if (!mine) throw new UnconfirmedWriteError(`${what}: added, but neither the answer nor the comment list shows it`)
      return normalizeComment(parentRemoteId, mine)
    },
  }
}
