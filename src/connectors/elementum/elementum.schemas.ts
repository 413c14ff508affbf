import { BadResponseError } from '../../http/errors.js'
import type { QuarantinedItem } from '../../engine/types.js'
import { extractList, firstStr, isObject, num, readItems, requireId, str, type Json } from '../shared/tolerant.js'

/**
 * Tolerant reading of Elementum payloads (DESIGN.md §1). Search answers
 * `{paging, total, items: [{cursor, data}]}`; the docs leave the rest open, so a missing
 * `paging` means the last page, `total` is optional, an item may be the field map itself,
 * and a single record may be the field map or `{data: {...}}`. A record without `data.id`
 * cannot be mirrored: in a search page it is quarantined (with records whose ids collide) and
 * the rest of the page is read; as a single record it is a clear BadResponseError.
 */

export interface SearchItem {
  cursor: string | null
  /** The record's field map keyed by display name; `id` is present and a string. */
  data: Json & { id: string }
}

export interface SearchPage {
  items: SearchItem[]
  /** Items that cannot be read as records (absent: none). */
  quarantined?: QuarantinedItem[]
  hasNext: boolean
  endCursor: string | null
  total: number | null
}

export interface RelayList {
  items: unknown[]
  hasNext: boolean
  endCursor: string | null
}

const LIST_KEYS = ['items', 'data', 'results', 'edges'] as const

function pagingOf(body: unknown): { hasNext: boolean; endCursor: string | null } {
  const p = isObject(body) ? (isObject(body.paging) ? body.paging : isObject(body.pageInfo) ? body.pageInfo : undefined) : undefined
  if (!p) return { hasNext: false, endCursor: null }
  const flag = p.has_next_page ?? p.hasNextPage
  return { hasNext: flag === true || flag === 'true', endCursor: firstStr(p, ['end_cursor', 'endCursor']) }
}

/** A record's field map from an item that is `{cursor, data}` (Relay edge), `{node}` or the map itself. */
function dataOf(item: unknown): unknown {
  if (!isObject(item)) return item
  if (isObject(item.data)) return item.data
  if (isObject(item.node)) return item.node
  return item
}

function withId(data: unknown, what: string): Json & { id: string } {
  const id = requireId(data, ['id'], what)
  return { ...(data as Json), id }
}

export function parseSearchPage(body: unknown, what: string): SearchPage {
  const list = extractList(body, LIST_KEYS, what)
  const { good: items, quarantined } = readItems(
    list,
    (item) => ({ cursor: isObject(item) ? str(item.cursor) : null, data: withId(dataOf(item), 'record (data.id missing)') }),
    (item) => item.data.id,
    (item) => {
      const data = dataOf(item)
      return isObject(data) ? str(data.id) : null
    },
  )
  const paging = pagingOf(body)
  // some servers omit end_cursor but give each item its cursor (the last item's, bad or not)
  const last = list[list.length - 1]
  const endCursor = paging.endCursor ?? (isObject(last) ? str(last.cursor) : null)
  return { items, quarantined, hasNext: paging.hasNext, endCursor, total: isObject(body) ? num(body.total) : null }
}

/** A Relay list of child objects (comments, related items), or a bare array. */
export function parseRelayList(body: unknown, what: string): RelayList {
  const items = extractList(body, LIST_KEYS, what).map((item) => (isObject(item) && isObject(item.node) ? item.node : item))
  const paging = pagingOf(body)
  const last = items[items.length - 1]
  return { items, hasNext: paging.hasNext, endCursor: paging.endCursor ?? (isObject(last) ? str(last.cursor) : null) }
}

/** One record as GET/POST/PUT answer it: the field map, or the same wrapped as `{data: {...}}`. */
export function parseRecord(body: unknown, what: string): Json & { id: string } {
  const inner = isObject(body) && isObject(body.data) && str(body.id) === null ? body.data : body
  if (!isObject(inner)) throw new BadResponseError(`${what}: expected a record object, got ${Array.isArray(inner) ? 'array' : typeof inner}`)
  return withId(inner, `${what}: record (data.id missing)`)
}

/** When a comment or attachment was created, under any of the names seen in the wild. */
const createdAtOf = (o: Json): string | null => firstStr(o, ['createdAt', 'created_at', 'createdOn'])

export interface RawComment {
  id: string
  createdAt: string | null
  source: string | null
  contents: string | null
  createdBy: unknown
  document: Json
}

export function parseComment(item: unknown, what: string): RawComment {
  const id = requireId(item, ['id', 'commentId'], what)
  const c = item as Json
  return {
    id,
    createdAt: createdAtOf(c),
    source: str(c.source),
    contents: firstStr(c, ['contents', 'content', 'text', 'body']) ?? (c.contents === '' ? '' : null),
    createdBy: c.createdBy ?? c.author ?? null,
    document: c,
  }
}

export interface RawAttachment {
  id: string
  name: string | null
  mediaType: string | null
  size: number | null
  createdAt: string | null
  document: Json
}

export function parseAttachment(item: unknown, what: string): RawAttachment {
  const id = requireId(item, ['id', 'attachmentId'], what)
  const a = item as Json
  return {
    id,
    name: firstStr(a, ['name', 'fileName', 'filename']),
    mediaType: firstStr(a, ['mediaType', 'contentType', 'mimeType']),
    size: num(a.size),
    createdAt: createdAtOf(a),
    document: a,
  }
}

export interface RawRelation {
  id: string
  alias: string | null
  type: string | null
  relationId: string | null
}

export function parseRelation(item: unknown, what: string): RawRelation {
  const r = isObject(item) && isObject(item.data) ? { ...item, ...item.data } : item
  const id = requireId(r, ['id', 'recordId'], what)
  const o = r as Json
  return { id, alias: str(o.alias), type: firstStr(o, ['type', 'recordType']), relationId: firstStr(o, ['relationId', 'relation_id']) }
}
