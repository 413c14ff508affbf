import { BadResponseError } from '../../http/errors.js'
import { badShape } from '../shared/paging.js'
import { extractList, isObject, num, str } from '../shared/tolerant.js'

/**
 * How an Elements list response pages. The v3 endpoints page by `pageIndex`/`pageSize`
 * with `{data, metadata: {pageIndex, pageSize, totalCount}}`; other AvePoint services hand
 * out a full `nextLink` URL (an empty string when done); legacy endpoints answer OData
 * `{value: [...]}`. Pure, so each shape can be tested without a server.
 */

export const PAGE_SIZE = 100

export type NextPage = { kind: 'link'; url: string } | { kind: 'index'; pageIndex: number } | null

export interface ParsedPage {
  items: unknown[]
  next: NextPage
}

export interface PageState {
  /** The pageIndex this response answers (for index paging). */
  pageIndex: number
  pageSize: number
  /** True once a nextLink has been followed: from then on only a nextLink continues. */
  linked: boolean
  /** The first item id of the previous page, to spot an endpoint that ignores pageIndex. */
  previousFirstId: string | null
}

export const firstId = (items: unknown[]): string | null => {
  const first = items[0]
  return isObject(first) ? str(first.id) : null
}

export function parseAvepointPage(body: unknown, state: PageState, what: string, requestId: string | undefined): ParsedPage {
  let items: unknown[]
  try {
    items = extractList(body, ['data', 'value', 'items'], what)
  } catch (err) {
    throw err instanceof BadResponseError ? badShape(err.message, requestId) : err
  }
  const obj = isObject(body) ? body : {}
  const link = obj.nextLink ?? obj['@odata.nextLink']
  if (typeof link === 'string' && link !== '') return { items, next: { kind: 'link', url: link } }
  // a nextLink key (even empty or null) means this endpoint pages by links: no link, no more
  if (state.linked || 'nextLink' in obj || '@odata.nextLink' in obj) return { items, next: null }
  if (items.length === 0) return { items, next: null }
  if (state.previousFirstId !== null && firstId(items) === state.previousFirstId)
    throw badShape(`${what}: page ${state.pageIndex} repeats the previous page; the endpoint seems to ignore pageIndex`, requestId)
  const meta = isObject(obj.metadata) ? obj.metadata : null
  const total = meta ? num(meta.totalCount) : null
  if (meta && total !== null) {
    const index = num(meta.pageIndex) ?? state.pageIndex
    const size = num(meta.pageSize) ?? state.pageSize
    return { items, next: index * size < total ? { kind: 'index', pageIndex: state.pageIndex + 1 } : null }
  }
  // no total: a short page is the last one
  return { items, next: items.length >= state.pageSize ? { kind: 'index', pageIndex: state.pageIndex + 1 } : null }
}
