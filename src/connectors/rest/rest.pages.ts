import type { RestStream, StopWhen } from './rest.config.js'
import type { HttpClient, HttpResponse } from '../../http/client.js'
import { BadResponseError } from '../../http/errors.js'
import { badShape, createPageGuard, getPath, nextFromLinkHeader, type RawPage } from '../shared/paging.js'
import { str } from '../shared/tolerant.js'
import { itemsOf } from './rest.normalize.js'

/**
 * The pagination styles of a declarative REST stream. Each yields the raw items of one
 * page and decides from the response alone whether another page follows.
 */

export interface PageOptions {
  signal: AbortSignal
  what: string
  maxPages?: number | undefined
  /** Health check: ask for one item where the style allows it, and read only the first page. */
  probe?: boolean
}

interface PageFacts {
  body: unknown
  /** Items on this page. */
  items: number
  /** The page size asked for. */
  size: number
  /** Items read so far, this page included. */
  read: number
  pagesRead: number
}

/** Whether a numbered scan has read its last page (see `stopWhen` in rest.config.ts). */
export function isLastPage(stopWhen: StopWhen, page: PageFacts, what: string): boolean {
  if (page.items === 0) return true
  if (stopWhen === 'emptyPage') return false
  if (stopWhen === 'shortPage') return page.items < page.size
  const [path, value] =
    'hasMorePath' in stopWhen
      ? [stopWhen.hasMorePath, getPath(page.body, stopWhen.hasMorePath)]
      : 'totalPath' in stopWhen
        ? [stopWhen.totalPath, getPath(page.body, stopWhen.totalPath)]
        : [stopWhen.totalPagesPath, getPath(page.body, stopWhen.totalPagesPath)]
  // a declared end marker that is missing must not end a scan early (the rest would look deleted)
  if ('hasMorePath' in stopWhen) {
    if (typeof value === 'boolean') return !value
    if (value === 'true' || value === 'false') return value === 'false'
  } else {
    const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN
    if (Number.isFinite(n)) return 'totalPath' in stopWhen ? page.read >= n : page.pagesRead >= n
  }
  throw new BadResponseError(`${what}: the page has no usable end marker at "${path}" (got ${JSON.stringify(value) ?? 'nothing'}); check stopWhen`)
}

export async function* restPages(http: HttpClient, s: RestStream, opts: PageOptions): AsyncGenerator<RawPage> {
  const p = s.pagination
  const { signal, what } = opts
  const guard = createPageGuard(what, opts.maxPages)
  const route = `GET ${s.path}`
  const size = opts.probe ? 1 : 'pageSize' in p ? p.pageSize : 0
  const get = async (path: string, searchParams?: Record<string, string | number | undefined>): Promise<{ res: HttpResponse<unknown>; items: unknown[] }> => {
    guard.next()
    const res = await http.request({ path, route, signal, ...(searchParams ? { searchParams } : {}) })
    try {
      return { res, items: itemsOf(res.body, s, what) }
    } catch (err) {
      throw err instanceof BadResponseError ? badShape(err.message, res.requestId) : err
    }
  }

  switch (p.style) {
    case 'none': {
      yield { items: (await get(s.path)).items, last: true }
      return
    }
    case 'page': {
      let read = 0
      for (let page = p.firstPage; ; page++) {
        const { res, items } = await get(s.path, { [p.pageParam]: page, [p.sizeParam]: size })
        read += items.length
        const last = opts.probe === true || isLastPage(p.stopWhen, { body: res.body, items: items.length, size, read, pagesRead: page - p.firstPage + 1 }, what)
        yield { items, last }
        if (last) return
      }
    }
    case 'offset': {
      for (let offset = 0, pagesRead = 1; ; pagesRead++) {
        const { res, items } = await get(s.path, { [p.offsetParam]: offset, [p.limitParam]: size })
        // an API that caps the limit returns fewer: the next offset follows what it returned
        offset += items.length
        const last = opts.probe === true || isLastPage(p.stopWhen, { body: res.body, items: items.length, size, read: offset, pagesRead }, what)
        yield { items, last }
        if (last) return
      }
    }
    case 'cursor': {
      let cursor: string | null = null
      for (;;) {
        const { res, items } = await get(s.path, { [p.sizeParam]: size, [p.cursorParam]: cursor ?? undefined })
        cursor = str(getPath(res.body, p.cursorPath))
        const last = opts.probe === true || cursor === null || cursor === ''
        yield { items, last }
        if (last || cursor === null) return
        guard.follow(cursor)
      }
    }
    case 'link': {
      // relative links resolve against the URL that returned them (RFC 8288 §3.2)
      let url = new URL(s.path.replace(/^\//, ''), http.baseUrl).toString()
      for (;;) {
        const { res, items } = await get(url)
        const next = p.nextLinkPath !== undefined ? str(getPath(res.body, p.nextLinkPath)) : nextFromLinkHeader(res.headers.link)
        const last = opts.probe === true || next === null || next === undefined || next === ''
        yield { items, last }
        if (last || !next) return
        url = new URL(next, url).toString()
        guard.follow(url)
      }
    }
  }
}
