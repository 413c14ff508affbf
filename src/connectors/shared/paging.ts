import { SyncError } from '../../engine/errors.js'
import type { Cursor, Page, RemoteRecord } from '../../engine/types.js'
import type { HttpClient } from '../../http/client.js'
import { BadResponseError } from '../../http/errors.js'
import type { Logger } from '../../logger.js'
import { isObject, readItems } from './tolerant.js'

/**
 * Helpers shared by the full-scan connectors (avepoint, elasticio, rest): dotted paths,
 * RFC 8288 `Link` headers, a guard against pagination that never ends, the cursor a
 * complete scan leaves behind, and the health check.
 */

/** Pagination that does not end: too many pages, or a next link/cursor that repeats. */
export class RunawayPagingError extends SyncError {
  override readonly code = 'runaway_paging'
}

export const MAX_PAGES = 100_000

/** `a.b.c` inside a JSON value; undefined when any step is missing. An empty path is the value itself. */
export function getPath(value: unknown, dotted: string): unknown {
  if (dotted === '') return value
  let cur = value
  for (const key of dotted.split('.')) {
    if (Array.isArray(cur) && /^\d+$/.test(key)) cur = cur[Number(key)]
    else if (isObject(cur)) cur = cur[key]
    else return undefined
  }
  return cur
}

/** The `rel="next"` target of an RFC 8288 `Link` header (one header or several), or undefined. */
export function nextFromLinkHeader(header: string | string[] | undefined): string | undefined {
  const values = Array.isArray(header) ? header : header ? [header] : []
  for (const value of values) for (const link of parseLinks(value)) if (link.rels.includes('next')) return link.target
  return undefined
}

/** `<uri>; name=value; name="quoted, value", <uri>; ...` — commas inside quotes or brackets do not split. */
function parseLinks(value: string): { target: string; rels: string[] }[] {
  const links: { target: string; rels: string[] }[] = []
  let i = 0
  while (i < value.length) {
    const open = value.indexOf('<', i)
    if (open < 0) break
    const close = value.indexOf('>', open)
    if (close < 0) break
    const target = value.slice(open + 1, close)
    let rels: string[] = []
    i = close + 1
    // parameters up to the next comma outside quotes
    while (i < value.length && value[i] !== ',') {
      const m = /^\s*;\s*([^=;,\s]+)\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)"|([^;,\s]*)))?\s*/.exec(value.slice(i))
      if (!m || m[0] === '') {
        i += 1
        continue
      }
      if (m[1]?.toLowerCase() === 'rel') rels = (m[2] ?? m[3] ?? '').toLowerCase().split(/\s+/).filter(Boolean)
      i += m[0].length
    }
    links.push({ target, rels })
    i += 1
  }
  return links
}

/**
 * Counts the pages of one read and refuses to go on past `max` pages or when the API
 * hands back a next link or cursor it already gave (which would loop forever).
 */
export function createPageGuard(what: string, max = MAX_PAGES) {
  let pages = 0
  const seen = new Set<string>()
  return {
    get pages() {
      return pages
    },
    /** Call before each request. */
    next(): void {
      pages += 1
      if (pages > max) throw new RunawayPagingError(`${what}: stopped after ${max} pages without reaching the end; check the stream's pagination settings`)
    },
    /** Call with each next link or cursor before following it. */
    follow(token: string): void {
      if (seen.has(token)) throw new RunawayPagingError(`${what}: the API returned the same next page twice; pagination would never end`)
      seen.add(token)
    },
  }
}

/**
 * What a complete scan leaves as the stream's cursor: nothing a full read needs to
 * resume from, but a bookmark analysts can read ("complete up to this change"). It only
 * moves when the source changed, so a scan of an unchanged source writes nothing.
 */
export function createScanTracker() {
  let records = 0
  let maxUpdatedMs = Number.NEGATIVE_INFINITY
  return {
    add(batch: readonly RemoteRecord[]): void {
      records += batch.length
      for (const r of batch) {
        const t = r.remoteUpdatedAt ? Date.parse(r.remoteUpdatedAt) : Number.NaN
        if (t > maxUpdatedMs) maxUpdatedMs = t
      }
    },
    cursor(): Cursor {
      return { complete: true, records, maxUpdatedAt: Number.isFinite(maxUpdatedMs) ? new Date(maxUpdatedMs).toISOString() : null }
    },
  }
}

/** Logs a failed read once, with the vendor's request id when the error carries one, and rethrows. */
export async function* logReadErrors<T>(log: Logger, stream: string, pages: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* pages
  } catch (err) {
    const requestId = (err as { requestId?: unknown }).requestId
    const code = err instanceof SyncError ? err.code : 'unknown'
    log.warn({ stream, code, ...(typeof requestId === 'string' ? { requestId } : {}), err }, 'stream read failed')
    throw err
  }
}

/** GETs `path` and ignores the body: only the status matters. Errors are the HTTP layer's typed ones. */
export async function checkPath(http: HttpClient, path: string, signal: AbortSignal): Promise<void> {
  await http.request({ path, route: `GET ${path || '/'}`, signal, expect: 'buffer' })
}

/** A BadResponseError whose message names the vendor's request id, so support can trace it. */
export function badShape(message: string, requestId: string | undefined): BadResponseError {
  return new BadResponseError(requestId ? `${message} (request-id ${requestId})` : message)
}

/** One page of raw items as a list endpoint returned it; `last` when the response says no page follows. */
export interface RawPage {
  items: readonly unknown[]
  last: boolean
}

/**
 * A full scan as engine pages: each page of raw items normalized, and the last page
 * carrying the scan's cursor, so only a complete scan moves it. An item that cannot be
 * normalized (no id, say) or whose id collides is quarantined and the page goes on; whether
 * a page is the last is the pager's decision from the raw items, never from what is left.
 * `rawIdOf` names a bad item's id where it has one.
 */
export async function* scanPages(
  raw: AsyncIterable<RawPage>,
  normalize: (item: unknown) => RemoteRecord,
  rawIdOf?: (item: unknown) => string | null,
): AsyncGenerator<Page> {
  const scan = createScanTracker()
  for await (const page of raw) {
    const { good: records, quarantined } = readItems(page.items, normalize, (r) => r.remoteId, rawIdOf)
    scan.add(records)
    const bad = quarantined.length > 0 ? { quarantined } : {}
    if (page.last) {
      yield { records, ...bad, cursor: scan.cursor() }
      return
    }
    yield { records, ...bad }
  }
  throw new BadResponseError('the list ended without a last page') // unreachable unless a pager is wrong
}
