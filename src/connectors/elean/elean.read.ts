import { SyncError } from '../../engine/errors.js'
import type { ReadContext } from '../../engine/ports.js'
import type { Cursor, Page, RemoteComment } from '../../engine/types.js'
import { BadResponseError } from '../../http/errors.js'
import type { Logger } from '../../logger.js'
import { createPageGuard } from '../shared/paging.js'
import { isObject, type Json } from '../shared/tolerant.js'
import { PAGE_LIMIT, type EleanApi } from './elean.client.js'
import { pickCommentTargets, rememberScan, type StreamMemory, type TaskVersion } from './elean.comments.js'
import { needsStatusList, normalizeComment, normalizeTask, versionOf, type StatusLookup } from './elean.normalize.js'
import type { TaskListPage } from './elean.schemas.js'

/**
 * One scan of one Elean project. The API has no updated-since filter and no sort, so
 * every read lists every page (`limit=100`) and the mirror's content hash skips what did
 * not change.
 *
 * Offset paging drifts while people edit: a row inserted or deleted before the current
 * offset shifts later rows, so one may be listed twice or skipped. A skipped row would be
 * soft-deleted by the scan, and a row read on page 1 and deleted before page 2 would be
 * kept. So the listing is collected first and yielded only once it is consistent:
 * a pass that sees `meta.total` change or an id twice is abandoned and the listing is
 * re-read from page 1 (at most once). The re-read pass is what gets mirrored. When it
 * drifts too, the union of both passes is saved (no update is lost) and the read fails
 * with `paging_drift`, so no deletion is inferred from it; the next poll tries again.
 * Cost: ⌈N/100⌉ requests per scan without drift, at most twice that with it; memory is
 * one project's task list (the scan has to hold its ids anyway).
 *
 * Drift that inserts and deletes the same number of rows before the current offset
 * between two page requests cannot be seen from the pages alone; the next scan repairs it.
 */

export interface EleanCursor {
  /** Start time of the last scan that completed (ISO-8601). */
  lastScanAt: string
}

/** The listing kept changing while it was paged, on both passes. */
export class PagingDriftError extends SyncError {
  override readonly code = 'paging_drift'
  override readonly retryable = true
}

export interface ReadProjectDeps {
  api: EleanApi
  stream: string
  project: string
  memory: StreamMemory
  /** The project's statuses (cached by the connector), for tasks whose status lacks a name or category. */
  statuses: (signal: AbortSignal) => Promise<StatusLookup>
  commentsPerScan: number
  log: Logger
}

type Task = Json & { id: string }

interface Pass {
  tasks: Map<string, Task>
  /** Why the pass is not a consistent snapshot; null when it is. */
  drift: string | null
}

export function lastScanOf(cursor: Cursor | null): number | null {
  if (!isObject(cursor) || typeof cursor.lastScanAt !== 'string') return null
  const t = Date.parse(cursor.lastScanAt)
  return Number.isNaN(t) ? null : t
}

/** Whether `page` is the last one: `hasMore` when given, else `totalPages`, else a short page. */
export function isLastPage(res: TaskListPage, page: number): boolean {
  if (res.tasks.length === 0) return true
  if (res.meta.hasMore !== null) return !res.meta.hasMore
  if (res.meta.totalPages !== null) return page >= res.meta.totalPages
  return res.tasks.length < PAGE_LIMIT
}

/** Lists every page once. `stopOnDrift`: give up at the first sign of drift (a re-read follows). */
async function listPass(deps: ReadProjectDeps, signal: AbortSignal, stopOnDrift: boolean): Promise<Pass> {
  const tasks = new Map<string, Task>()
  const guard = createPageGuard(`GET ${deps.project}/tasks`)
  let total: number | null = null
  let drift: string | null = null
  for (let page = 1; ; page++) {
    signal.throwIfAborted()
    guard.next()
    const res = await deps.api.listTasks(deps.project, page, signal)
    let fresh = 0
    for (const task of res.tasks) {
      if (tasks.has(task.id)) drift ??= `task ${task.id} listed twice (page ${page})`
      else fresh += 1
      // the later read is the newer one
      tasks.set(task.id, task)
    }
    if (res.meta.total !== null) {
      if (total !== null && res.meta.total !== total) drift ??= `meta.total went from ${total} to ${res.meta.total} (page ${page})`
      total = res.meta.total
    }
    deps.log.debug({ stream: deps.stream, page, tasks: res.tasks.length, total: res.meta.total, drift }, 'list page')
    if (isLastPage(res, page) || (drift !== null && stopOnDrift)) return { tasks, drift }
    // a full page of known tasks: the server ignores `page` (or 100+ rows were inserted meanwhile)
    if (fresh === 0) throw new BadResponseError(`GET ${deps.project}/tasks: page ${page} listed only tasks already seen; the API seems to ignore \`page\``)
  }
}

/** A consistent listing when one of two passes gives it; else the union and the reason. */
async function listAll(deps: ReadProjectDeps, signal: AbortSignal): Promise<{ tasks: Task[]; drift: string | null }> {
  const first = await listPass(deps, signal, true)
  if (first.drift === null) return { tasks: [...first.tasks.values()], drift: null }
  deps.log.info({ stream: deps.stream, project: deps.project, reason: first.drift }, 'listing drifted while paging: re-reading from page 1')
  const second = await listPass(deps, signal, false)
  if (second.drift === null) return { tasks: [...second.tasks.values()], drift: null }
  const union = new Map(first.tasks)
  for (const [id, task] of second.tasks) union.set(id, task)
  return { tasks: [...union.values()], drift: second.drift }
}

/** Comments of `ids`, one request each; a task deleted since the listing (404) is left out. */
async function readComments(deps: ReadProjectDeps, ids: readonly string[], scan: number, signal: AbortSignal): Promise<Page['comments']> {
  const parents: string[] = []
  const items: RemoteComment[] = []
  for (const id of ids) {
    signal.throwIfAborted()
    const comments = await deps.api.comments(deps.project, id, signal)
    if (comments === null) continue
    deps.memory.commentsRead.set(id, scan)
    parents.push(id)
    items.push(...comments.map((c) => normalizeComment(id, c)))
  }
  return { parents, items }
}

export async function* readProject(deps: ReadProjectDeps, from: Cursor | null, ctx: ReadContext): AsyncGenerator<Page> {
  const { memory } = deps
  const { signal } = ctx
  memory.scans += 1
  const scan = memory.scans
  const listing = await listAll(deps, signal)
  const lookup = listing.tasks.some(needsStatusList) ? await deps.statuses(signal) : null
  const records = listing.tasks.map((t) => normalizeTask(t, lookup))
  const versions: TaskVersion[] = listing.tasks.map((t) => ({ id: t.id, version: versionOf(t) }))

  const lastScan = lastScanOf(from)
  const targets = new Set(pickCommentTargets(versions, memory, deps.commentsPerScan, lastScan === null ? null : lastScan - ctx.lookbackMs))
  const cursor: EleanCursor = { lastScanAt: ctx.startedAt.toISOString() }
  deps.log.debug({ stream: deps.stream, tasks: records.length, commentReads: targets.size, drift: listing.drift }, 'scan listed')

  // pages of the listing's size, so each saved page stays one modest transaction
  let offset = 0
  do {
    const chunk = records.slice(offset, offset + PAGE_LIMIT)
    offset += PAGE_LIMIT
    const ids = chunk.filter((r) => targets.has(r.remoteId)).map((r) => r.remoteId)
    const comments = ids.length > 0 ? await readComments(deps, ids, scan, signal) : undefined
    const last = offset >= records.length
    yield { records: chunk, ...(comments ? { comments } : {}), ...(last && listing.drift === null ? { cursor } : {}) }
  } while (offset < records.length)

  rememberScan(memory, versions)
  if (listing.drift !== null) {
    throw new PagingDriftError(
      `GET ${deps.project}/tasks: the task list kept changing while it was paged (${listing.drift}); ` +
        'every task read was saved, but no deletion is inferred from this scan',
    )
  }
}
