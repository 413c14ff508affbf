import { SyncError } from '../../engine/errors.js'
import { serverTimeOf, type HttpClient } from '../../http/client.js'
import { BadResponseError, HttpStatusError } from '../../http/errors.js'
import { translateWriteError } from '../shared/write.js'
import { parseComments, parseStatuses, parseTaskList, type EleanComment, type EleanStatus, type TaskListPage } from './elean.schemas.js'

/**
 * Elean's read paths, relative to `baseUrl` (`…/v1/public`). Route labels are the
 * documented templates so metrics stay low-cardinality. Auth, retries and the
 * connection's 60/min budget are the HTTP client's; this file only adds Elean's meaning
 * of 401 and 403 to the errors it throws.
 */

/** The API refuses `limit` above 100 (400): never send more. */
export const PAGE_LIMIT = 100

/** A 401/403 from Elean, explained: which key problem or which scope/project. */
export class EleanAccessError extends SyncError {
  override readonly code: 'unauthorized' | 'forbidden'
  constructor(message: string, status: 401 | 403, cause: unknown) {
    super(message, { cause })
    this.code = status === 401 ? 'unauthorized' : 'forbidden'
  }
}

/** One path segment; a slug or id such as `..` must never walk the path. */
function seg(s: string): string {
  if (s === '' || /^(\.|%2e){1,2}$/i.test(s)) throw new BadResponseError(`unusable path segment ${JSON.stringify(s)}`)
  return encodeURIComponent(s)
}

export const paths = {
  statuses: (project: string): string => `${seg(project)}/statuses`,
  tasks: (project: string): string => `${seg(project)}/tasks`,
  comments: (project: string, taskId: string): string => `${seg(project)}/tasks/${seg(taskId)}/comments`,
  task: (project: string, taskId: string): string => `${seg(project)}/tasks/${seg(taskId)}`,
  attachments: (project: string, taskId: string): string => `${seg(project)}/tasks/${seg(taskId)}/attachments`,
  attachment: (project: string, taskId: string, attachmentId: string): string => `${seg(project)}/tasks/${seg(taskId)}/attachments/${seg(attachmentId)}`,
}

export interface EleanApi {
  statuses(project: string, signal: AbortSignal): Promise<EleanStatus[]>
  /** One page of top-level tasks, `PAGE_LIMIT` per page, 1-based, with the server's clock when it answered. */
  listTasks(project: string, page: number, signal: AbortSignal): Promise<TaskListPage & { serverTime: Date | null }>
  /** Comments of a task, oldest first; null when the task is gone (404). */
  comments(project: string, taskId: string, signal: AbortSignal): Promise<EleanComment[] | null>
  /** GET of an arbitrary path (the configured health check). */
  get(path: string, signal: AbortSignal): Promise<void>
}

/** Rethrows `err`, explaining a 401/403 in Elean's terms (the key, its scopes, its project). */
export function explainAccess(err: unknown, connection: string, project: string | undefined): never {
  if (err instanceof HttpStatusError && (err.status === 401 || err.status === 403)) {
    const detail = err.message
    if (err.status === 401) {
      throw new EleanAccessError(
        `elean connection ${connection}: the API key was refused (401): it is missing, invalid or expired; check the connection's auth token (${detail})`,
        401,
        err,
      )
    }
    const what = project ? `project ${project}` : 'this request'
    throw new EleanAccessError(
      `elean connection ${connection}: access to ${what} was denied (403): the key lacks the task:read scope or is restricted to another project (${detail})`,
      403,
      err,
    )
  }
  throw err
}

export function createEleanApi(http: HttpClient): EleanApi {
  const call = async <T>(project: string | undefined, run: () => Promise<T>): Promise<T> => {
    try {
      return await run()
    } catch (err) {
      return explainAccess(err, http.name, project)
    }
  }

  return {
    statuses: (project, signal) =>
      call(project, async () => {
        const res = await http.request({ path: paths.statuses(project), route: 'GET /{project}/statuses', signal })
        return parseStatuses(res.body, `GET ${project}/statuses`)
      }),
    listTasks: (project, page, signal) =>
      call(project, async () => {
        const res = await http.request({
          path: paths.tasks(project),
          route: 'GET /{project}/tasks',
          signal,
          searchParams: { page, limit: PAGE_LIMIT },
        })
        return { ...parseTaskList(res.body, `GET ${project}/tasks page ${page}`), serverTime: serverTimeOf(res.headers) }
      }),
    comments: (project, taskId, signal) =>
      call(project, async () => {
        const res = await http.request({ path: paths.comments(project, taskId), route: 'GET /{project}/tasks/{taskId}/comments', signal, allowStatus: [404] })
        if (res.status === 404) return null
        return parseComments(res.body, `comments of ${taskId}`)
      }),
    get: (path, signal) =>
      call(undefined, async () => {
        await http.request({ path, route: 'GET healthCheckPath', signal, expect: 'buffer' })
      }),
  }
}

/**
 * Rethrows a write's error in Elean's terms: 401/403 explained (key, scope, project), then
 * 400 → rejected naming the field, 404 → not found, 413 → too large.
 */
export function explainWrite(
  err: unknown,
  connection: string,
  project: string,
  scope: string,
  what: string,
  o: { fields: readonly string[]; post?: boolean },
): never {
  if (err instanceof HttpStatusError && err.status === 401)
    throw new EleanAccessError(`elean connection ${connection}: ${what}: the API key was refused (401): it is missing, invalid or expired`, 401, err)
  if (err instanceof HttpStatusError && err.status === 403)
    throw new EleanAccessError(
      `elean connection ${connection}: ${what}: denied (403): the key lacks the ${scope} scope or is restricted to another project than ${project}`,
      403,
      err,
    )
  return translateWriteError(err, what, o)
}
