import type { QuarantinedItem, StatusCategory } from '../../engine/types.js'
import { BadResponseError } from '../../http/errors.js'
import { extractList, firstStr, isObject, num, readItems, requireId, str, type Json } from '../shared/tolerant.js'

/**
 * Tolerant reading of Elean payloads (DESIGN.md §1, vendor-docs/elean-public-api.txt).
 * The list answers `{tasks, meta: {total, page, limit, totalPages, hasMore}}`, but a bare
 * array or `{data: [...]}` is accepted and `meta` is optional. Statuses are a bare array
 * or wrapped under `data`/`statuses`. A task without an id cannot be mirrored: it is
 * quarantined (with tasks whose ids collide), never silently skipped, and the rest of the
 * page is read. A comment without an id is a clear BadResponseError.
 */

export const CATEGORIES: readonly StatusCategory[] = ['todo', 'in_progress', 'done']

export function category(v: unknown): StatusCategory | null {
  return typeof v === 'string' && (CATEGORIES as readonly string[]).includes(v) ? (v as StatusCategory) : null
}

/** What the list's `meta` says; every part is optional (some shapes have no meta at all). */
export interface ListMeta {
  total: number | null
  totalPages: number | null
  limit: number | null
  hasMore: boolean | null
}

export interface TaskListPage {
  /** Raw tasks, each an object with a string `id`. */
  tasks: (Json & { id: string })[]
  meta: ListMeta
  /** How many items the page listed, bad ones included: paging goes by this, never by what is left (absent: `tasks.length`). */
  listed?: number
  /** Items that cannot be read as tasks (absent: none). */
  quarantined?: QuarantinedItem[]
}

export interface EleanStatus {
  id: string | null
  name: string | null
  category: StatusCategory | null
}

export interface EleanComment {
  id: string
  content: string | null
  authorName: string | null
  createdAt: string | null
  document: Json
}

const TASK_LIST_KEYS = ['tasks', 'data', 'items'] as const
const STATUS_LIST_KEYS = ['data', 'statuses'] as const
const COMMENT_LIST_KEYS = ['comments', 'data'] as const

function bool(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v
  if (v === 'true' || v === 'false') return v === 'true'
  return null
}

function metaOf(body: unknown): ListMeta {
  const m = isObject(body) ? (isObject(body.meta) ? body.meta : isObject(body.pagination) ? body.pagination : undefined) : undefined
  if (!m) return { total: null, totalPages: null, limit: null, hasMore: null }
  return { total: num(m.total), totalPages: num(m.totalPages ?? m.total_pages), limit: num(m.limit), hasMore: bool(m.hasMore ?? m.has_more) }
}

export function parseTaskList(body: unknown, what: string): TaskListPage {
  const list = extractList(body, TASK_LIST_KEYS, what)
  const { good: tasks, quarantined } = readItems(
    list,
    (item) => ({ ...(item as Json), id: requireId(item, ['id'], 'task') }),
    (t) => t.id,
  )
  return { tasks, meta: metaOf(body), listed: list.length, quarantined }
}

/** A status object (from the list, or embedded in a task); a bare string is taken as its name. */
export function parseStatus(v: unknown): EleanStatus | null {
  if (typeof v === 'string' && v !== '') return { id: null, name: v, category: null }
  if (!isObject(v)) return null
  return { id: str(v.id), name: firstStr(v, ['name', 'title']), category: category(v.category) }
}

export function parseStatuses(body: unknown, what: string): EleanStatus[] {
  return extractList(body, STATUS_LIST_KEYS, what)
    .map(parseStatus)
    .filter((s): s is EleanStatus => s !== null)
}

export function parseComments(body: unknown, what: string): EleanComment[] {
  return extractList(body, COMMENT_LIST_KEYS, what).map((item, i) => {
    const id = requireId(item, ['id'], `${what}: comment ${i}`)
    const c = item as Json
    return {
      id,
      content: firstStr(c, ['content', 'body', 'text']) ?? (c.content === '' ? '' : null),
      authorName: firstStr(c, ['authorName', 'author']),
      createdAt: firstStr(c, ['createdAt', 'created_at']),
      document: c,
    }
  })
}

/** One task as an answer carries it: the object, or wrapped under `data` / `task`. */
export function parseTask(body: unknown, what: string): Json & { id: string } {
  const inner = isObject(body) && !('id' in body) ? (isObject(body.data) ? body.data : isObject(body.task) ? body.task : body) : body
  if (!isObject(inner)) throw new BadResponseError(`${what}: expected a task object`)
  return { ...inner, id: requireId(inner, ['id'], what) }
}
