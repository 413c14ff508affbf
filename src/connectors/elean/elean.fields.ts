import type { EleanStream } from './elean.config.js'
import { FieldNotWritableError, UnmappableValueError, type FieldCatalog, type FieldInfo } from '../../engine/catalog.js'
import { UnknownStreamError } from '../../engine/errors.js'
import { canonicalValue, peopleNames, readSource, textOf, timestampOf, type Columns } from '../shared/fields.js'
import type { StatusLookup } from './elean.normalize.js'

/**
 * Elean task fields both ways (vendor-docs/elean-public-api.txt). Names are the task's own
 * (`title`, `status`, `dueDate`); `status` is the status *name*, written as the `statusId`
 * of the project's status with that name. What Elean stores: a trimmed title of 1–500
 * characters, a description that is null when empty, a lower-case priority (`none` when
 * unset), a due date-time in UTC with milliseconds. The public API cannot assign people.
 */

export const PRIORITIES = ['none', 'low', 'medium', 'high', 'urgent'] as const
const TITLE_MAX = 500

const FIELDS: readonly FieldInfo[] = [
  { name: 'title', kind: 'text', writable: true },
  { name: 'description', kind: 'longtext', writable: true },
  { name: 'status', kind: 'status', writable: true },
  { name: 'priority', kind: 'enum', writable: true, values: PRIORITIES },
  { name: 'dueDate', kind: 'datetime', writable: true },
  { name: 'assignees', kind: 'people', writable: false },
  { name: 'category', kind: 'enum', writable: false, values: ['todo', 'in_progress', 'done'] },
  { name: 'id', kind: 'text', writable: false },
  { name: 'externalId', kind: 'text', writable: false },
  { name: 'createdAt', kind: 'datetime', writable: false },
  { name: 'updatedAt', kind: 'datetime', writable: false },
  { name: 'parentId', kind: 'text', writable: false },
  { name: 'attachments', kind: 'json', writable: false },
]
const BY_NAME = new Map(FIELDS.map((f) => [f.name, f]))

/**
 * Mirrored record → task field: the normalizer's columns (elean.normalize.ts), else `fields`.
 * The task's UUID `id` is the mirror row's remote id, not part of the snapshot.
 */
const COLUMNS: Columns = {
  title: (s) => s.title,
  description: (s) => s.description,
  status: (s) => s.status,
  category: (s) => s.status_category,
  priority: (s) => s.priority,
  dueDate: (s) => s.due_at,
  assignees: (s) => s.assignees,
  externalId: (s) => s.external_key,
  createdAt: (s) => s.remote_created_at,
  updatedAt: (s) => s.remote_updated_at,
}

export interface EleanFieldsDeps {
  /** The connection's name, for errors. */
  connection: string
  streams: Readonly<Record<string, EleanStream>>
  /** The project's statuses; the connector's cached read (GET /{project}/statuses). */
  statuses(project: string, signal: AbortSignal): Promise<StatusLookup>
}

export function createEleanFieldCatalog(deps: EleanFieldsDeps): FieldCatalog {
  // the last status list seen per project, so that `normalize` (synchronous) gives a status name Elean's own case
  const known = new Map<string, StatusLookup>()

  const projectOf = (stream: string): string => {
    const s = deps.streams[stream]
    if (!s) throw new UnknownStreamError({ connection: deps.connection, stream })
    return s.project
  }

  const statusesOf = async (stream: string, signal: AbortSignal): Promise<StatusLookup> => {
    const project = projectOf(stream)
    const lookup = await deps.statuses(project, signal)
    known.set(project, lookup)
    return lookup
  }

  const title = (v: unknown): string | null => textOf(v)?.trim() ?? null
  const description = (v: unknown): string | null => {
    const s = textOf(v)
    return s === null || s.trim() === '' ? null : s
  }
  const priority = (v: unknown): string | null => {
    const s = textOf(v)?.trim().toLowerCase()
    return s === undefined || s === '' ? 'none' : s
  }

  function normalize(stream: string, name: string, value: unknown): unknown {
    switch (name) {
      case 'title':
        return title(value)
      case 'description':
        return description(value)
      case 'priority':
        return priority(value)
      case 'status': {
        const s = textOf(value)?.trim() ?? null
        if (s === null || s === '') return null
        const project = deps.streams[stream]?.project
        return (project && known.get(project)?.byName.get(s.toLowerCase())?.name) ?? s
      }
      case 'assignees':
        return peopleNames(value)
      default:
        return canonicalValue(BY_NAME.get(name)?.kind ?? 'json', value)
    }
  }

  /** One field's part of the body; throws when Elean cannot take it. */
  async function entry(stream: string, name: string, value: unknown, signal: AbortSignal): Promise<[string, unknown]> {
    const info = BY_NAME.get(name)
    if (!info) throw new FieldNotWritableError(stream, name, 'Elean tasks have no such field')
    if (!info.writable) throw new FieldNotWritableError(stream, name, `Elean's public API does not let a client set ${name}`)
    const bad = (reason: string) => new UnmappableValueError(stream, name, value, reason)
    switch (name) {
      case 'title': {
        const t = title(value)
        if (t === null || t === '') throw bad('a task needs a title')
        if (t.length > TITLE_MAX) throw bad(`Elean titles are at most ${TITLE_MAX} characters (this one has ${t.length})`)
        return ['title', t]
      }
      case 'priority': {
        const p = priority(value)
        if (p === null || !(PRIORITIES as readonly string[]).includes(p)) throw bad(`priority must be one of ${PRIORITIES.join(', ')}`)
        return ['priority', p]
      }
      case 'dueDate': {
        const t = timestampOf(value)
        if (t === undefined) throw bad('not an ISO 8601 date or date-time')
        return ['dueDate', t]
      }
      case 'status': {
        const s = textOf(value)?.trim()
        if (!s) throw bad('an Elean task always has a status')
        const lookup = await statusesOf(stream, signal)
        const status = lookup.byName.get(s.toLowerCase())
        if (!status?.id) {
          const names = [...lookup.byName.values()].map((x) => x.name).join(', ')
          throw bad(`project ${projectOf(stream)} has no status of that name (known: ${names || 'none'})`)
        }
        return ['statusId', status.id]
      }
      case 'description':
        return ['description', description(value)]
      default:
        throw new FieldNotWritableError(stream, name, 'no wire form is known for it')
    }
  }

  return {
    field: (_stream, name) => BY_NAME.get(name) ?? null,

    read: (snapshot, name) => readSource(COLUMNS, snapshot, name) ?? null,

    normalize,

    async toPayload(stream, values, signal) {
      const body: Record<string, unknown> = {}
      for (const [name, value] of Object.entries(values)) {
        if (value === undefined) continue
        const [key, wire] = await entry(stream, name, value, signal)
        body[key] = wire
      }
      return body
    },
  }
}
