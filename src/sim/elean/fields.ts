import { isJsonObject, SimHttpError } from '../common/server.js'
import { CATEGORIES, PRIORITIES, type Category, type Person, type Priority, type Project, type TaskFields } from './model.js'

/**
 * Validation and normalization of task input, shared by the public API and the
 * control routes (a human editing in the UI gets the same rules). Every error is a
 * 400 whose message starts with the offending field's name.
 */

const bad = (message: string): SimHttpError => new SimHttpError(400, message)

export function asObject(body: unknown): Record<string, unknown> {
  if (!isJsonObject(body)) throw bad('Request body must be a JSON object')
  return body
}

function readTitle(v: unknown): string {
  if (typeof v !== 'string') throw bad('title is required and must be a string')
  const title = v.trim()
  if (title.length < 1 || title.length > 500) throw bad('title must be between 1 and 500 characters')
  return title
}

function readDescription(v: unknown): string | null {
  if (v === null) return null
  if (typeof v !== 'string') throw bad('description must be a string or null')
  // Stored as given (newlines kept); an empty one reads back as null.
  return v.trim() === '' ? null : v
}

export function readPriority(v: unknown, field = 'priority'): Priority {
  if (!PRIORITIES.includes(v as Priority)) throw bad(`${field} must be one of ${PRIORITIES.join(', ')}`)
  return v as Priority
}

export function readCategory(v: unknown, field = 'status'): Category {
  if (!CATEGORIES.includes(v as Category)) throw bad(`${field} must be one of ${CATEGORIES.join(', ')}`)
  return v as Category
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/

function readDueDate(v: unknown): string | null {
  if (v === null) return null
  if (typeof v !== 'string' || !ISO_DATE.test(v) || Number.isNaN(Date.parse(v))) throw bad('dueDate must be an ISO 8601 date-time or null')
  // Read back in one canonical form, as the real API does with its timestamp column.
  return new Date(v).toISOString()
}

function readStatusId(v: unknown, project: Project): string {
  if (typeof v !== 'string') throw bad('statusId must be a string')
  if (!project.statuses.some((s) => s.id === v)) throw bad(`statusId ${v} does not exist in project ${project.slug}`)
  return v
}

/** The fields of a create (`title` required) or an update (all optional). */
export function readTaskFields(body: unknown, project: Project, mode: 'create' | 'update'): TaskFields {
  const b = asObject(body)
  const out: TaskFields = {}
  if (mode === 'create' || b.title !== undefined) out.title = readTitle(b.title)
  if (b.description !== undefined) out.description = readDescription(b.description)
  if (b.priority !== undefined) out.priority = readPriority(b.priority)
  if (b.dueDate !== undefined) out.dueDate = readDueDate(b.dueDate)
  if (b.statusId !== undefined) out.statusId = readStatusId(b.statusId, project)
  return out
}

/**
 * Assignees set by a human (control routes only; the public API cannot assign):
 * names or `{id?, name}`. A name not yet in the workspace becomes a new member.
 */
export function readAssignees(v: unknown, project: Project, newId: () => string): Person[] {
  if (!Array.isArray(v)) throw bad('assignees must be an array')
  return v.map((item: unknown) => {
    const name = typeof item === 'string' ? item : (item as { name?: unknown } | null)?.name
    if (typeof name !== 'string' || name.trim() === '') throw bad('assignees entries must be names or {name}')
    let member = project.members.find((m) => m.name === name)
    if (!member) {
      member = { id: newId(), name }
      project.members.push(member)
    }
    return member
  })
}

/** Comment text: 1–10 000 characters, not only whitespace. */
export function readContent(v: unknown): string {
  if (typeof v !== 'string') throw bad('content is required and must be a string')
  if (v.trim().length < 1 || v.length > 10_000) throw bad('content must be between 1 and 10000 characters')
  return v
}
