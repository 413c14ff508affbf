import type { ElementumStream } from './elementum.config.js'
import type { ReadContext } from '../../engine/ports.js'
import type { ChildSet, Cursor, Page, RemoteAttachment, RemoteComment, RemoteRecord, RemoteRelation } from '../../engine/types.js'
import { BadResponseError } from '../../http/errors.js'
import type { Logger } from '../../logger.js'
import { isObject } from '../shared/tolerant.js'
import { andFilters, windowFilter, type ElementumApi, type Namespace } from './elementum.client.js'
import { toRemoteAttachment, toRemoteComment, toRemoteRecord, toRemoteRelation } from './elementum.normalize.js'
import { parseAttachment, parseComment, parseRelation } from './elementum.schemas.js'

/**
 * Reading one stream. Incremental: one window `[since − lookback, startedAt]` on the
 * stream's cursor field (inclusive; duplicates are absorbed by the mirror's upsert), paged
 * with Relay cursors. Full: no date filter. Only the LAST page of a read carries the new
 * cursor `{since: startedAt}`, so a failure mid-read never moves the cursor past unsaved
 * pages. An empty window costs one request and still yields one (empty) page with the cursor.
 */

export interface ElementumCursor {
  /** High-water mark: the start time of the last completed read (ISO-8601). */
  since: string
}

export interface ReadStreamDeps {
  api: ElementumApi
  streamName: string
  stream: ElementumStream
  pageSize: number
  /** Fetch comments, attachments and related items of every record read (3+ requests per record). */
  children: boolean
  childConcurrency: number
  /** The configured stream mirroring an alias, for related items. */
  streamOfAlias: (alias: string) => string | null
  log: Logger
}

/** The stored cursor's high-water mark; null when there is none or it cannot be read. */
export function sinceOf(cursor: Cursor | null): Date | null {
  if (!isObject(cursor) || typeof cursor.since !== 'string') return null
  const t = Date.parse(cursor.since)
  return Number.isNaN(t) ? null : new Date(t)
}

/** The window of an incremental read; a cursor ahead of the clock still gets a lookback-sized window. */
export function windowOf(since: Date, ctx: Pick<ReadContext, 'startedAt' | 'lookbackMs'>): { from: Date; to: Date } {
  const to = ctx.startedAt
  const from = new Date(Math.min(since.getTime(), to.getTime()) - Math.max(0, ctx.lookbackMs))
  return { from, to }
}

export async function* readStream(deps: ReadStreamDeps, stored: Cursor | null, ctx: ReadContext): AsyncGenerator<Page> {
  const { stream, api, log } = deps
  const ns: Namespace = { recordType: stream.recordType, alias: stream.alias }
  const since = sinceOf(stored)
  if (stored !== null && stored !== undefined && since === null) log.warn({ stream: deps.streamName }, 'unreadable cursor: reading the whole stream')
  const full = ctx.mode === 'full' || since === null
  const window = full || since === null ? undefined : windowOf(since, ctx)
  const filter = andFilters(stream.filter, window && windowFilter(stream.cursorField, window.from, window.to))
  const next: ElementumCursor = { since: ctx.startedAt.toISOString() }
  log.debug({ stream: deps.streamName, full, filter }, 'read start')

  let after: string | undefined
  for (let n = 1; ; n++) {
    ctx.signal.throwIfAborted()
    const res = await api.search(ns, { filter, first: deps.pageSize, after }, ctx.signal)
    const records: RemoteRecord[] = res.items.map((item) => toRemoteRecord(item.data, stream.cursorField))
    const children = deps.children ? await readChildren(deps, ns, records, ctx.signal) : {}
    const last = !res.hasNext
    log.debug({ stream: deps.streamName, page: n, records: records.length, total: res.total, last }, 'page')
    yield { records, ...children, ...(last ? { cursor: next } : {}) }
    if (last) return
    if (!res.endCursor || res.endCursor === after)
      throw new BadResponseError(`GET ${ns.recordType}/${ns.alias}: has_next_page without a new end_cursor (page ${n})`)
    after = res.endCursor
  }
}

type Children = Pick<Page, 'comments' | 'attachments' | 'relations'>

/**
 * Comments, attachments and related items of each record of a page, `childConcurrency`
 * records at a time. A record deleted since the search (404) keeps its stored children.
 */
async function readChildren(deps: ReadStreamDeps, ns: Namespace, records: readonly RemoteRecord[], signal: AbortSignal): Promise<Children> {
  const comments = set<RemoteComment>()
  const attachments = set<RemoteAttachment>()
  const relations = set<RemoteRelation>()
  const streamOf = (alias: string | null): string | null => (alias === null || alias === ns.alias ? deps.streamName : deps.streamOfAlias(alias))
  await eachLimited(records, deps.childConcurrency, signal, async ({ remoteId: id }) => {
    // one list at a time per record: `childConcurrency` bounds the requests in flight
    const c = await deps.api.comments(ns, id, signal)
    const a = await deps.api.attachments(ns, id, signal)
    const r = await deps.api.related(ns, id, signal)
    if (c)
      add(
        comments,
        id,
        c.map((x, i) => toRemoteComment(id, parseComment(x, `comment ${i} of ${id}`))),
      )
    if (a)
      add(
        attachments,
        id,
        a.map((x, i) => toRemoteAttachment(id, parseAttachment(x, `attachment ${i} of ${id}`))),
      )
    if (r)
      add(
        relations,
        id,
        r.map((x, i) => toRemoteRelation(id, parseRelation(x, `related item ${i} of ${id}`), streamOf)),
      )
  })
  return { comments, attachments, relations }
}

interface MutableSet<T> extends ChildSet<T> {
  parents: string[]
  items: T[]
}

function set<T>(): MutableSet<T> {
  return { parents: [], items: [] }
}

function add<T>(s: MutableSet<T>, parent: string, items: T[]): void {
  s.parents.push(parent)
  s.items.push(...items)
}

/** Runs `fn` over `items` with at most `limit` in flight; stops taking new items after a failure. */
async function eachLimited<T>(items: readonly T[], limit: number, signal: AbortSignal, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let failed = false
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      signal.throwIfAborted()
      const item = items[next++] as T
      try {
        await fn(item)
      } catch (err) {
        failed = true
        throw err
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker))
}
