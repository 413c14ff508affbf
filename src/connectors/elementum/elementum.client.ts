import { SyncError } from '../../engine/errors.js'
import { serverTimeOf, type HttpClient } from '../../http/client.js'
import { BadResponseError } from '../../http/errors.js'
import { parseRelayList, parseSearchPage, type RelayList, type SearchPage } from './elementum.schemas.js'
import { extractList } from '../shared/tolerant.js'

/**
 * Elementum's paths and RSQL. Paths are relative to `baseUrl` (`…/v1`); the token
 * endpoint is on the API host itself. Route labels are the documented templates so
 * metrics stay low-cardinality.
 */

/** Relay page size of a search: the API takes 1..1000; 100 keeps a page's child fetches small. */
export const DEFAULT_PAGE_SIZE = 100
export const MAX_PAGE_SIZE = 1000
/** Child lists (comments, related items) are short: one request per record almost always. */
export const CHILD_PAGE_SIZE = 1000

export interface Namespace {
  recordType: string
  alias: string
}

/** `{scheme}://{host}/oauth/token`: the token endpoint is not under `/v1`. */
export function elementumTokenUrl(baseUrl: string): string {
  const u = new URL(baseUrl)
  return `${u.protocol}//${u.host}/oauth/token`
}

export function clampPageSize(n: number | undefined): number {
  if (n === undefined || !Number.isFinite(n)) return DEFAULT_PAGE_SIZE
  return Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(n)))
}

// Characters that end or split an unquoted RSQL selector.
const RSQL_SELECTOR_STOP = /[=!;,()'"<>~]/

/**
 * `<field>=bt=<from>:<to>`, bounds inclusive, as `YYYY-MM-DDTHH:MM:SS.SSSZ`; without `to`,
 * the open-ended `<field>=ge=<from>`.
 */
export function windowFilter(field: string, from: Date, to?: Date): string {
  if (field.trim() === '' || RSQL_SELECTOR_STOP.test(field)) {
    throw new SyncError(`cursorField "${field}" cannot be used as an RSQL selector (it contains one of = ! ; , ( ) ' " < > ~)`)
  }
  return to ? `${field.trim()}=bt=${from.toISOString()}:${to.toISOString()}` : `${field.trim()}=ge=${from.toISOString()}`
}

/** The stream's own filter ANDed with the window: `(<filter>);<window>` (`;` binds tighter than `,`). */
export function andFilters(own: string | undefined, window: string | undefined): string | undefined {
  const f = own?.trim()
  if (!f) return window
  if (!window) return f
  return `(${f});${window}`
}

/** One path segment; a vendor id such as `..` must never walk the path. */
function seg(s: string): string {
  if (s === '' || /^(\.|%2e){1,2}$/i.test(s)) throw new BadResponseError(`unusable path segment ${JSON.stringify(s)}`)
  return encodeURIComponent(s)
}

export const paths = {
  search: (ns: Namespace): string => `${seg(ns.recordType)}/${seg(ns.alias)}`,
  record: (ns: Namespace, id: string): string => `${paths.search(ns)}/${seg(id)}`,
  comments: (ns: Namespace, id: string): string => `${paths.record(ns, id)}/comment`,
  attachments: (ns: Namespace, id: string): string => `${paths.record(ns, id)}/attachments`,
  related: (ns: Namespace, id: string): string => `${paths.record(ns, id)}/related-items`,
  relation: (ns: Namespace, id: string, relationId: string): string => `${paths.related(ns, id)}/${seg(relationId)}`,
  attachment: (ns: Namespace, id: string, attachmentId: string): string => `${paths.attachments(ns, id)}/${seg(attachmentId)}`,
  urlLinks: (ns: Namespace, id: string): string => `${paths.attachments(ns, id)}/url-links`,
}

export interface SearchQuery {
  filter?: string | undefined
  first: number
  after?: string | undefined
}

/** A search page and the server's clock when it answered (its `Date` header; null when absent). */
export type TimedSearchPage = SearchPage & { serverTime: Date | null }

export interface ElementumApi {
  search(ns: Namespace, q: SearchQuery, signal?: AbortSignal): Promise<TimedSearchPage>
  /** Every comment of a record (Relay paged); null when the record is gone (404). */
  comments(ns: Namespace, id: string, signal?: AbortSignal): Promise<unknown[] | null>
  /** Attachment list (a plain array); null when the record is gone. */
  attachments(ns: Namespace, id: string, signal?: AbortSignal): Promise<unknown[] | null>
  /** Related items (Relay paged, or a plain array); null when the record is gone. */
  related(ns: Namespace, id: string, signal?: AbortSignal): Promise<unknown[] | null>
}

export function createElementumApi(http: HttpClient): ElementumApi {
  /** Follows `after=end_cursor` until `has_next_page` is false; a cursor that does not move is an error. */
  async function relayAll(path: string, route: string, what: string, signal: AbortSignal | undefined): Promise<unknown[] | null> {
    const out: unknown[] = []
    let after: string | undefined
    for (;;) {
      const res = await http.request({ path, route, signal, allowStatus: [404], searchParams: { first: CHILD_PAGE_SIZE, after } })
      if (res.status === 404) return null
      const page: RelayList = parseRelayList(res.body, what)
      out.push(...page.items)
      if (!page.hasNext) return out
      if (!page.endCursor || page.endCursor === after) throw new BadResponseError(`${what}: has_next_page without a new end_cursor`)
      after = page.endCursor
    }
  }

  return {
    async search(ns, q, signal) {
      const what = `GET ${ns.recordType}/${ns.alias}`
      const res = await http.request({
        path: paths.search(ns),
        route: 'GET /{recordType}/{alias}',
        signal,
        searchParams: { filter: q.filter, first: q.first, after: q.after },
      })
      return { ...parseSearchPage(res.body, what), serverTime: serverTimeOf(res.headers) }
    },
    comments: (ns, id, signal) => relayAll(paths.comments(ns, id), 'GET /{recordType}/{alias}/{id}/comment', `comments of ${id}`, signal),
    related: (ns, id, signal) => relayAll(paths.related(ns, id), 'GET /{recordType}/{alias}/{id}/related-items', `related items of ${id}`, signal),
    async attachments(ns, id, signal) {
      const res = await http.request({ path: paths.attachments(ns, id), route: 'GET /{recordType}/{alias}/{id}/attachments', signal, allowStatus: [404] })
      if (res.status === 404) return null
      return extractList(res.body, ['items', 'data', 'attachments'], `attachments of ${id}`)
    },
  }
}
