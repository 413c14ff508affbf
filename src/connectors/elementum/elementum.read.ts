import type { MarkerFormat } from '../../engine/attribution.js'
import type { ElementumStream } from './elementum.config.js'
import type { ReadContext } from '../../engine/ports.js'
import type { ChildSet, Cursor, Page, RemoteAttachment, RemoteComment, RemoteRecord, RemoteRelation, RemoteWatcher } from '../../engine/types.js'
import { BadResponseError } from '../../http/errors.js'
import type { Logger } from '../../logger.js'
import { createChildFailures, type ChildFailures } from '../shared/child-failures.js'
import { isObject, readItems } from '../shared/tolerant.js'
import { andFilters, windowFilter, type ElementumApi, type Namespace } from './elementum.client.js'
import type { SearchItem } from './elementum.schemas.js'
import { listWatchers } from './elementum.watchers.js'
import type { HttpClient } from '../../http/client.js'
import { toRemoteAttachment, toRemoteComment, toRemoteRecord, toRemoteRelation } from './elementum.normalize.js'
import { parseAttachment, parseComment, parseRelation } from './elementum.schemas.js'

/**
 * Reading one stream. Incremental: one open-ended window `cursorField >= since − lookback`
 * (inclusive; duplicates are absorbed by the mirror's upsert), paged with Relay cursors.
 * Full: no date filter. Only the LAST page of a read carries the new cursor, so a failure
 * mid-read never moves the cursor past unsaved pages. An empty window costs one request
 * and still yields one (empty) page with the cursor.
 *
 * The window never consults our clock. `Updated on` is stamped by the server's clock, so
 * the new cursor is the server's time when it answered the read's first search (its `Date`
 * header): every record changed after that answer was computed has a later stamp, and the
 * next window (which reaches back a lookback further) finds it, however far our clock is
 * from the server's. An upper bound at our own "now" would hide edits from a server ahead
 * of us, and a cursor at our own "now" would skip edits from a server behind us. Without a
 * `Date` header the cursor is the largest cursor-field value read (else it stays put).
 *
 * Children (comments, attachments, related items) are read with the page for records that
 * changed: every record of an incremental window, and on a full scan those whose cursor field
 * is at or after the window an incremental read would have used (all of them when there is no
 * cursor yet); of these, only those whose children the mirror lacks at this `Updated on`
 * (`ReadContext.childrenBehind`): the lookback re-reads the records changed just before the
 * last poll, and their children did not change with a read. The others' children are the
 * engine's budgeted round-robin (`readChildPage`).
 *
 * Children of a record that cannot be read after
 * the HTTP client's retries do not sink the page: the record is listed in the page's
 * `staleChildren` (its stored children stay as they are), and the cursor is held at its
 * cursor-field value so that the next poll's window reads it, and its children, again.
 */

export interface ElementumCursor {
  /** High-water mark: the server's time when the last completed read began (ISO-8601). */
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
  /** Also read each record's watchers (one more request per record), for mappings that copy them. */
  watchers?: { http: HttpClient }
  /** The configured stream mirroring an alias, for related items. */
  streamOfAlias: (alias: string) => string | null
  log: Logger
  /** Create-marker formats stripped from descriptions (default: elsync's own). */
  markers?: readonly MarkerFormat[]
}

/** The stored cursor's high-water mark; null when there is none or it cannot be read. */
export function sinceOf(cursor: Cursor | null): Date | null {
  if (!isObject(cursor) || typeof cursor.since !== 'string') return null
  const t = Date.parse(cursor.since)
  return Number.isNaN(t) ? null : new Date(t)
}

/** Where an incremental window starts: the lookback before the stored high-water mark. */
export function windowStart(since: Date, lookbackMs: number): Date {
  return new Date(since.getTime() - Math.max(0, lookbackMs))
}

/** What a read has learned so far for its next cursor, on the server's clock. */
interface Mark {
  /** The `Date` of the first search's answer. */
  serverTime: number | null
  /** The largest cursor-field value read. */
  maxSeen: number | null
  /** The smallest cursor-field value of a record whose children were not read. */
  staleFloor: number | null
  /** A record whose children were not read has no usable cursor-field value: hold the cursor. */
  staleUnknown: boolean
}

/** The cursor the read's last page carries; undefined keeps the stored one. */
function nextCursor(mark: Mark): ElementumCursor | undefined {
  if (mark.staleUnknown) return undefined
  const base = mark.serverTime ?? mark.maxSeen
  if (base === null) return undefined
  return { since: new Date(mark.staleFloor === null ? base : Math.min(base, mark.staleFloor)).toISOString() }
}

const timeOf = (v: string | null | undefined): number | null => {
  const t = v ? Date.parse(v) : NaN
  return Number.isNaN(t) ? null : t
}

export async function* readStream(deps: ReadStreamDeps, stored: Cursor | null, ctx: ReadContext): AsyncGenerator<Page> {
  const { stream, api, log } = deps
  const ns: Namespace = { recordType: stream.recordType, alias: stream.alias }
  const since = sinceOf(stored)
  if (stored !== null && stored !== undefined && since === null) log.warn({ stream: deps.streamName }, 'unreadable cursor: reading the whole stream')
  const full = ctx.mode === 'full' || since === null
  // an admin's resync from a time reaches back further, never less far
  const start = since === null ? null : windowStart(since, ctx.lookbackMs)
  const from = start !== null && ctx.since && ctx.since < start ? ctx.since : start
  const filter = andFilters(stream.filter, full || from === null ? undefined : windowFilter(stream.cursorField, from))
  const mark: Mark = { serverTime: null, maxSeen: null, staleFloor: null, staleUnknown: false }
  // a full scan with a cursor: records stamped before the window did not change, so their children wait for the round-robin
  const changedFrom = ctx.mode === 'full' && since !== null ? windowStart(since, ctx.lookbackMs).getTime() : null
  const changed = (r: RemoteRecord): boolean => changedFrom === null || (timeOf(r.remoteUpdatedAt) ?? Number.POSITIVE_INFINITY) >= changedFrom
  const failures = createChildFailures()
  log.debug({ stream: deps.streamName, full, filter }, 'read start')

  let after: string | undefined
  for (let n = 1; ; n++) {
    ctx.signal.throwIfAborted()
    const res = await api.search(ns, { filter, first: deps.pageSize, after }, ctx.signal)
    if (n === 1) mark.serverTime = res.serverTime?.getTime() ?? null
    // one record that cannot be normalized is quarantined, never the page
    const normalized = readItems(
      res.items,
      (item) => toRemoteRecord((item as SearchItem).data, stream.cursorField, deps.markers),
      (r) => r.remoteId,
      (item) => (item as SearchItem).data.id,
    )
    const records: RemoteRecord[] = normalized.good
    const quarantined = [...(res.quarantined ?? []), ...normalized.quarantined]
    for (const r of records) {
      const t = timeOf(r.remoteUpdatedAt)
      if (t !== null && (mark.maxSeen === null || t > mark.maxSeen)) mark.maxSeen = t
    }
    const children = deps.children ? await readChildren(deps, ns, await behindOf(records.filter(changed), ctx), ctx.signal, failures) : undefined
    for (const r of records.filter((x) => children?.staleChildren.includes(x.remoteId))) {
      const t = timeOf(r.remoteUpdatedAt)
      if (t === null) mark.staleUnknown = true
      else if (mark.staleFloor === null || t < mark.staleFloor) mark.staleFloor = t
    }
    const last = !res.hasNext
    const cursor = last ? nextCursor(mark) : undefined
    log.debug({ stream: deps.streamName, page: n, records: records.length, total: res.total, last, staleChildren: children?.staleChildren.length }, 'page')
    yield {
      records,
      ...(children ? { comments: children.comments, attachments: children.attachments, relations: children.relations } : {}),
      ...(children?.watchers ? { watchers: children.watchers } : {}),
      ...(children?.staleChildren.length ? { staleChildren: children.staleChildren } : {}),
      ...(quarantined.length > 0 ? { quarantined } : {}),
      ...(cursor ? { cursor } : {}),
    }
    if (last) return
    if (!res.endCursor || res.endCursor === after)
      throw new BadResponseError(`GET ${ns.recordType}/${ns.alias}: has_next_page without a new end_cursor (page ${n})`)
    after = res.endCursor
  }
}

/** Those of `records` whose children the mirror lacks at this version (the window's lookback re-reads the others). */
async function behindOf(records: RemoteRecord[], ctx: ReadContext): Promise<RemoteRecord[]> {
  if (records.length === 0 || !ctx.childrenBehind) return records
  const behind = await ctx.childrenBehind(records)
  return records.filter((r) => behind.has(r.remoteId))
}

/** The children of chosen records, outside a read (the engine's round-robin): a page without records. */
export async function readChildPage(deps: ReadStreamDeps, ids: readonly string[], signal: AbortSignal): Promise<Page> {
  const ns: Namespace = { recordType: deps.stream.recordType, alias: deps.stream.alias }
  const children = await readChildren(
    deps,
    ns,
    ids.map((remoteId) => ({ remoteId })),
    signal,
    createChildFailures(),
  )
  const { staleChildren, ...sets } = children
  return { records: [], ...sets, ...(staleChildren.length > 0 ? { staleChildren } : {}) }
}

interface Children {
  comments: ChildSet<RemoteComment>
  attachments: ChildSet<RemoteAttachment>
  relations: ChildSet<RemoteRelation>
  watchers?: ChildSet<RemoteWatcher>
  /** Records whose children could not be read: in none of the sets above. */
  staleChildren: string[]
}

/**
 * Comments, attachments and related items of each record of a page, `childConcurrency`
 * records at a time. A record deleted since the search (404) keeps its stored children;
 * so does one whose children could not be read (it is listed in `staleChildren`). A
 * failure that concerns the whole connection (auth, rate limit, host unreachable) or an
 * abort fails the page: the next search would fail the same way.
 */
async function readChildren(
  deps: ReadStreamDeps,
  ns: Namespace,
  records: readonly Pick<RemoteRecord, 'remoteId'>[],
  signal: AbortSignal,
  failures: ChildFailures,
): Promise<Children> {
  const comments = set<RemoteComment>()
  const attachments = set<RemoteAttachment>()
  const relations = set<RemoteRelation>()
  const watchers = deps.watchers ? set<RemoteWatcher>() : undefined
  const stale = new Set<string>()
  const streamOf = (alias: string | null): string | null => (alias === null || alias === ns.alias ? deps.streamName : deps.streamOfAlias(alias))
  await eachLimited(records, deps.childConcurrency, signal, async ({ remoteId: id }) => {
    if (failures.open) return void stale.add(id)
    let read: [RemoteComment[] | null, RemoteAttachment[] | null, RemoteRelation[] | null]
    let w: RemoteWatcher[] | null = null
    try {
      // one list at a time per record: `childConcurrency` bounds the requests in flight
      const c = await deps.api.comments(ns, id, signal)
      const a = await deps.api.attachments(ns, id, signal)
      const r = await deps.api.related(ns, id, signal)
      read = [
        c ? c.map((x, i) => toRemoteComment(id, parseComment(x, `comment ${i} of ${id}`))) : null,
        a ? a.map((x, i) => toRemoteAttachment(id, parseAttachment(x, `attachment ${i} of ${id}`))) : null,
        r ? r.map((x, i) => toRemoteRelation(id, parseRelation(x, `related item ${i} of ${id}`), streamOf)) : null,
      ]
      if (deps.watchers) w = await listWatchers(deps.watchers.http, ns, id, signal)
    } catch (err) {
      failures.absorb(err, signal)
      stale.add(id)
      deps.log.warn({ stream: deps.streamName, record: id, err }, 'children not read: stored ones kept, read again next poll')
      return
    }
    const [c, a, r] = read
    if (c) add(comments, id, c)
    if (a) add(attachments, id, a)
    if (r) add(relations, id, r)
    if (watchers && w) add(watchers, id, w)
  })
  if (failures.open && stale.size > 0)
    deps.log.warn({ stream: deps.streamName, records: stale.size }, 'child reads keep failing: children of this page not read')
  // in page order, whatever order the concurrent reads finished in
  return { comments, attachments, relations, ...(watchers ? { watchers } : {}), staleChildren: records.map((r) => r.remoteId).filter((id) => stale.has(id)) }
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
