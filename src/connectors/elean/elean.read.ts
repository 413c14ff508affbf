import type { MarkerFormat } from '../../engine/attribution.js'
import { SyncError } from '../../engine/errors.js'
import type { ReadContext } from '../../engine/ports.js'
import type { Page, QuarantinedItem, RemoteComment } from '../../engine/types.js'
import { BadResponseError } from '../../http/errors.js'
import type { Logger } from '../../logger.js'
import { createChildFailures, type ChildFailures } from '../shared/child-failures.js'
import { createPageGuard } from '../shared/paging.js'
import type { Json } from '../shared/tolerant.js'
import { PAGE_LIMIT, type EleanApi } from './elean.client.js'
import { planComments, type CommentPlan } from './elean.comments.js'
import { attachmentsOf, needsStatusList, normalizeComment, normalizeTask, type StatusLookup } from './elean.normalize.js'
import type { TaskListPage } from './elean.schemas.js'

/**
 * One scan of one Elean project. The API has no updated-since filter and no sort, so
 * every read lists every page (`limit=100`) and the mirror's content hash skips what did
 * not change. Each page is yielded as soon as it is read (with the comments picked among
 * its tasks), so memory holds one page of tasks and the ids of the page before, never
 * the whole task list nor its ids: a connector's memory does not grow with the project.
 *
 * Offset paging drifts while people edit: a row inserted or deleted before the current
 * offset shifts later rows, so one may be listed twice or skipped. A skipped row would be
 * soft-deleted by the scan, and a row read on page 1 and deleted before page 2 would be
 * kept. A pass that sees `meta.total` change or an id twice is therefore abandoned at
 * once (the page that showed it is not yielded) and the listing is re-read from page 1
 * (at most once): the re-read's first page carries `restartScan`, so the engine forgets
 * what the abandoned pass had seen (what it saved stays saved: it was real data) and
 * only the re-read decides deletions. Within a pass a task listed again is yielded again
 * (the later read is the newer one; the mirror's content hash skips it if it did not change).
 * An id is looked for on its own page and the page before: a shift of fewer than 100 rows
 * between two page requests lists a row again there. When the re-read
 * drifts too, it is read to its end all the same (every task it lists is saved), no page
 * carries the cursor, and the read fails with `paging_drift`, so no deletion is inferred;
 * the next poll tries again. Only the last page of a consistent pass carries the cursor.
 * Cost: ⌈N/100⌉ list requests per scan without drift, at most about twice that with it.
 *
 * Drift that inserts and deletes the same number of rows before the current offset
 * between two page requests, or that shifts 100 rows or more between them without changing
 * `meta.total`, cannot be seen from the pages kept; the next scan repairs it.
 *
 * The cursor records when the last complete scan began, by the server's clock (the `Date`
 * of the scan's first list response; ours only without one). Which tasks changed since is the
 * mirror's to say (`elean.comments.ts`), not the cursor's. A comment read that fails after
 * the retries does not sink the page: the task is listed in `staleChildren` (its stored
 * comments stay, marked stale), and the next scan, of this process or a fresh one, reads them
 * again.
 */

export interface EleanCursor {
  /** The server's time when the last completed scan began (ISO-8601). */
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
  /** The project's statuses (cached by the connector), for tasks whose status lacks a name or category. */
  statuses: (signal: AbortSignal) => Promise<StatusLookup>
  commentsPerScan: number
  log: Logger
  /** Create-marker formats stripped from descriptions (default: elsync's own). */
  markers?: readonly MarkerFormat[]
}

type Task = Json & { id: string }

/** What one scan shares between its passes. */
interface Scan {
  deps: ReadProjectDeps
  signal: AbortSignal
  comments: CommentPlan
  failures: ChildFailures
  /** Our clock's start time (used only without a `Date` header). */
  startedAt: number
  /** The `Date` of the scan's first list response. */
  serverTime: number | null
}

interface PassOptions {
  /** This pass starts the scan over: its first page carries `restartScan`. */
  restart: boolean
  /** Give up at the first sign of drift (a re-read follows). */
  stopOnDrift: boolean
}

interface PassResult {
  /** Tasks the pass listed (one listed twice counts twice). */
  listed: number
  /** Why the pass is not a consistent snapshot; null when it is. */
  drift: string | null
}

/**
 * Whether `page` is the last one: `hasMore` when given, else `totalPages`, else a short page.
 * Counted in items listed, quarantined ones included: a page of bad items is no end.
 */
export function isLastPage(res: TaskListPage, page: number): boolean {
  const listed = res.listed ?? res.tasks.length
  if (listed === 0) return true
  if (res.meta.hasMore !== null) return !res.meta.hasMore
  if (res.meta.totalPages !== null) return page >= res.meta.totalPages
  return listed < PAGE_LIMIT
}

/** Lists every page once, yielding each as soon as it is read. */
async function* listPass(scan: Scan, opts: PassOptions): AsyncGenerator<Page, PassResult> {
  const { deps, signal } = scan
  // the ids (quarantined tasks' included) of the page before and of this one
  let before = new Set<string>()
  let listed = 0
  const guard = createPageGuard(`GET ${deps.project}/tasks`)
  let total: number | null = null
  let drift: string | null = null
  for (let page = 1; ; page++) {
    signal.throwIfAborted()
    guard.next()
    const res = await deps.api.listTasks(deps.project, page, signal)
    scan.serverTime ??= res.serverTime?.getTime() ?? null
    const here = new Set<string>()
    let newIds = 0
    const see = (id: string, task: boolean): void => {
      if (!before.has(id) && !here.has(id)) newIds += 1
      else if (task) drift ??= `task ${id} listed twice (page ${page})`
      here.add(id)
    }
    // the page's tasks; one listed twice is yielded again (the mirror's content hash skips it
    // when it did not change); within a page the last listing of an id wins
    const fresh = new Map<string, Task>()
    for (const task of res.tasks) {
      see(task.id, true)
      fresh.set(task.id, task)
    }
    let ids = res.tasks.length
    for (const { remoteId } of res.quarantined ?? []) {
      if (remoteId === null) continue
      ids += 1
      see(remoteId, false)
    }
    listed += res.tasks.length
    before = here
    if (res.meta.total !== null) {
      if (total !== null && res.meta.total !== total) drift ??= `meta.total went from ${total} to ${res.meta.total} (page ${page})`
      total = res.meta.total
    }
    const last = isLastPage(res, page)
    deps.log.debug({ stream: deps.stream, page, tasks: res.tasks.length, total: res.meta.total, drift, restart: opts.restart }, 'list page')
    if (drift !== null && opts.stopOnDrift) return { listed, drift }
    // a full page of known tasks: the server ignores `page` (or 100+ rows were inserted meanwhile)
    if (!last && newIds === 0 && ids > 0)
      throw new BadResponseError(`GET ${deps.project}/tasks: page ${page} listed only tasks already seen; the API seems to ignore \`page\``)
    yield await pageOf(scan, [...fresh.values()], {
      restartScan: opts.restart && page === 1,
      cursor: last && drift === null,
      quarantined: res.quarantined ?? [],
    })
    if (last) return { listed, drift }
  }
}

/** One listed page as the engine takes it: its records, the comments picked among them, the flags. */
async function pageOf(scan: Scan, tasks: Task[], flags: { restartScan: boolean; cursor: boolean; quarantined: readonly QuarantinedItem[] }): Promise<Page> {
  const { deps, signal } = scan
  const lookup = tasks.some((t) => needsStatusList(t)) ? await deps.statuses(signal) : null
  const records = tasks.map((t) => normalizeTask(t, lookup, deps.markers))
  const targets = await scan.comments.pick(records)
  const read = targets.length > 0 ? await readComments(deps, targets, signal, scan.failures) : undefined
  const cursor: EleanCursor | undefined = flags.cursor ? { lastScanAt: new Date(scan.serverTime ?? scan.startedAt).toISOString() } : undefined
  return {
    records,
    attachments: attachmentsOf(tasks),
    ...(read ? { comments: read.comments } : {}),
    ...(read?.stale.length ? { staleChildren: read.stale } : {}),
    ...(flags.quarantined.length > 0 ? { quarantined: flags.quarantined } : {}),
    ...(flags.restartScan ? { restartScan: true } : {}),
    ...(cursor ? { cursor } : {}),
  }
}

/**
 * Comments of `ids`, one request each; a task deleted since the listing (404) is left out,
 * and one whose read failed after the retries is returned in `stale`.
 */
async function readComments(
  deps: Pick<ReadProjectDeps, 'api' | 'project' | 'stream' | 'log'>,
  ids: readonly string[],
  signal: AbortSignal,
  failures: ChildFailures,
): Promise<{ comments: NonNullable<Page['comments']>; stale: string[] }> {
  const parents: string[] = []
  const items: RemoteComment[] = []
  const stale: string[] = []
  for (const id of ids) {
    signal.throwIfAborted()
    let comments: Awaited<ReturnType<typeof deps.api.comments>>
    try {
      if (failures.open) throw new SyncError('not read: comment reads keep failing in this scan')
      comments = await deps.api.comments(deps.project, id, signal)
    } catch (err) {
      failures.absorb(err, signal)
      stale.push(id)
      deps.log.warn({ stream: deps.stream, task: id, err }, 'comments not read: stored ones kept, read again later')
      continue
    }
    if (comments === null) continue
    parents.push(id)
    items.push(...comments.map((c) => normalizeComment(id, c)))
  }
  return { comments: { parents, items }, stale }
}

/** The comments of chosen tasks, outside a scan (the engine's round-robin): a page without records. */
export async function readCommentPage(
  deps: Pick<ReadProjectDeps, 'api' | 'project' | 'stream' | 'log'>,
  ids: readonly string[],
  signal: AbortSignal,
): Promise<Page> {
  const { comments, stale } = await readComments(deps, ids, signal, createChildFailures())
  return { records: [], comments, ...(stale.length > 0 ? { staleChildren: stale } : {}) }
}

export async function* readProject(deps: ReadProjectDeps, ctx: ReadContext): AsyncGenerator<Page> {
  const scan: Scan = {
    deps,
    signal: ctx.signal,
    comments: planComments(deps.commentsPerScan, ctx.childrenBehind),
    failures: createChildFailures(),
    startedAt: ctx.startedAt.getTime(),
    serverTime: null,
  }
  let pass = yield* listPass(scan, { restart: false, stopOnDrift: true })
  if (pass.drift !== null) {
    deps.log.info({ stream: deps.stream, project: deps.project, reason: pass.drift }, 'listing drifted while paging: re-reading from page 1')
    pass = yield* listPass(scan, { restart: true, stopOnDrift: false })
  }
  deps.log.debug({ stream: deps.stream, tasks: pass.listed, commentReads: scan.comments.picked, drift: pass.drift }, 'scan listed')
  if (pass.drift !== null) {
    throw new PagingDriftError(
      `GET ${deps.project}/tasks: the task list kept changing while it was paged (${pass.drift}); ` +
        'every task read was saved, but no deletion is inferred from this scan',
    )
  }
}
