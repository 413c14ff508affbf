import { intParam, SimHttpError, type SimRequest, type SimResponse } from '../common/index.js'

/**
 * Relay cursor paging over lists kept sorted by a store-wide sequence number. A cursor is
 * the base64 of the sequence number of an item, so a page resumes *after that position*
 * even when the item itself has since been deleted or others were inserted.
 */

export interface PageArgs {
  first?: number
  last?: number
  after?: number
  before?: number
}

export interface Paging {
  has_next_page: boolean
  end_cursor: string | null
  has_previous_page: boolean
  start_cursor: string | null
}

export interface Page<T> {
  items: T[]
  paging: Paging
}

export const DEFAULT_PAGE_SIZE = 100
export const MAX_PAGE_SIZE = 1000

export function encodeCursor(seq: number): string {
  return Buffer.from(`seq:${seq}`).toString('base64')
}

export function decodeCursor(cursor: string, name: string): number {
  // A '+' that was not URL-encoded arrives as a space.
  const m = /^seq:(\d+)$/.exec(Buffer.from(cursor.replaceAll(' ', '+'), 'base64').toString('utf8'))
  if (!m) throw new SimHttpError(400, `${name} is not a valid cursor`)
  return Number(m[1])
}

/** Reads `first/after` or `last/before` (defaults to first=100); 400 on bad values. */
export function pageArgs(req: SimRequest): PageArgs {
  const has = (name: string): boolean => (req.query.get(name) ?? '') !== ''
  if (has('first') && has('last')) throw new SimHttpError(400, 'first and last cannot be combined')
  const args: PageArgs = {}
  if (has('last')) args.last = intParam(req, 'last', DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
  else args.first = intParam(req, 'first', DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
  const after = req.query.get('after')
  const before = req.query.get('before')
  if (after) args.after = decodeCursor(after, 'after')
  if (before) args.before = decodeCursor(before, 'before')
  return args
}

/** Index of the first element whose seq is > seq (or >= seq when `inclusive`). */
function bound<T>(list: readonly T[], seqOf: (t: T) => number, seq: number, inclusive: boolean): number {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const s = seqOf(list[mid] as T)
    if (s < seq || (!inclusive && s === seq)) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * One page of `list` (sorted by seq). Walks from the cursor position and stops after one
 * item beyond the page, so a page never touches the whole list unless the filter is sparse.
 */
export function pageSorted<T>(list: readonly T[], seqOf: (t: T) => number, args: PageArgs, matches: (t: T) => boolean = () => true): Page<T> {
  const start = args.after === undefined ? 0 : bound(list, seqOf, args.after, false)
  const end = args.before === undefined ? list.length : bound(list, seqOf, args.before, true)
  const anyMatch = (from: number, to: number, step: 1 | -1): boolean => {
    for (let i = from; step > 0 ? i < to : i > to; i += step) if (matches(list[i] as T)) return true
    return false
  }
  const items: T[] = []
  let hasNext: boolean
  let hasPrev: boolean
  if (args.last === undefined) {
    const size = args.first ?? DEFAULT_PAGE_SIZE
    let i = start
    for (; i < end && items.length < size; i++) if (matches(list[i] as T)) items.push(list[i] as T)
    hasNext = anyMatch(i, list.length, 1)
    hasPrev = anyMatch(start - 1, -1, -1)
  } else {
    let i = end - 1
    for (; i >= start && items.length < args.last; i--) if (matches(list[i] as T)) items.push(list[i] as T)
    items.reverse()
    hasPrev = anyMatch(i, -1, -1)
    hasNext = anyMatch(end, list.length, 1)
  }
  const firstItem = items[0]
  const lastItem = items[items.length - 1]
  return {
    items,
    paging: {
      has_next_page: hasNext,
      end_cursor: lastItem === undefined ? null : encodeCursor(seqOf(lastItem)),
      has_previous_page: hasPrev,
      start_cursor: firstItem === undefined ? null : encodeCursor(seqOf(firstItem)),
    },
  }
}

/** A 200 `{paging, total, items}` of one page of a record's seq-ordered children (comments, related items). */
export function childPage<T extends { seq: number }>(req: SimRequest, list: readonly T[], view: (item: T) => unknown): SimResponse {
  const page = pageSorted(list, (item) => item.seq, pageArgs(req))
  return { status: 200, body: { paging: page.paging, total: list.length, items: page.items.map((item) => view(item)) } }
}
