import type { ElementumStream } from './elementum.config.js'
import { FieldNotWritableError, UnmappableValueError, type FieldCatalog, type FieldInfo } from '../../engine/catalog.js'
import { peopleOf, readSource, textOf, timestampOf, type Columns } from '../shared/fields.js'

/**
 * Elementum record fields both ways (vendor-docs/elementum-api.txt). Names are display
 * names (`Title`, `Due Date`); every value is a string on the wire, dates as
 * `YYYY-MM-DDTHH:MM:SS.SSSZ`, and a field set to null is removed. Record types are
 * configured per app, so a display name the catalog does not know is taken as a writable
 * text field (the API refuses one the record type does not define, naming it).
 */

const KNOWN: readonly FieldInfo[] = [
  { name: 'id', kind: 'text', writable: false },
  { name: 'Title', kind: 'text', writable: true },
  { name: 'Status', kind: 'status', writable: true },
  { name: 'Priority', kind: 'enum', writable: true },
  { name: 'Due Date', kind: 'datetime', writable: true },
  { name: 'Description', kind: 'longtext', writable: true },
  { name: 'Assignee', kind: 'people', writable: true },
  { name: 'Created on', kind: 'datetime', writable: false },
  { name: 'Updated on', kind: 'datetime', writable: false },
  { name: 'Created by', kind: 'text', writable: false },
  { name: 'Updated by', kind: 'text', writable: false },
]
const BY_NAME = new Map(KNOWN.map((f) => [f.name, f]))

/** Mirrored record → display name: the normalizer's columns (elementum.normalize.ts); the stream's cursor field is `remote_updated_at`. */
const COLUMNS: Columns = {
  id: (s) => s.external_key,
  Title: (s) => s.title,
  Status: (s) => s.status,
  Priority: (s) => s.priority,
  'Due Date': (s) => s.due_at,
  Description: (s) => s.description,
  Assignee: (s) => s.assignees,
  'Created on': (s) => s.remote_created_at,
  'Created by': (s) => s.created_by ?? null,
  'Updated by': (s) => s.updated_by ?? null,
}

export interface ElementumFieldsDeps {
  streams: Readonly<Record<string, ElementumStream>>
}

export function createElementumFieldCatalog(deps: ElementumFieldsDeps): FieldCatalog {
  const cursorFields = new Set(Object.values(deps.streams).map((s) => s.cursorField))

  function field(stream: string, name: string): FieldInfo {
    if (deps.streams[stream]?.cursorField === name) return { name, kind: 'datetime', writable: false }
    return BY_NAME.get(name) ?? { name, kind: 'text', writable: true }
  }

  /** The one person Elementum's `Assignee` holds, by name (or id), or null; throws for several. */
  function assignee(value: unknown, fail: (reason: string) => never): string | null {
    const people = peopleOf(value)
    if (people.length > 1) fail('Elementum records have one Assignee')
    const p = people[0]
    return p ? (p.name ?? p.id) : null
  }

  function normalize(stream: string, name: string, value: unknown): unknown {
    const info = field(stream, name)
    if (info.kind === 'datetime') {
      const t = timestampOf(value)
      return t === undefined ? textOf(value) : t
    }
    if (info.kind === 'people') {
      const names = peopleOf(value).map((p) => p.name ?? p.id)
      return names.length === 0 ? null : names.join(', ')
    }
    const s = textOf(value)
    return s === '' ? null : s
  }

  function wire(stream: string, name: string, value: unknown): string | null {
    const info = field(stream, name)
    if (!info.writable) throw new FieldNotWritableError(stream, name, 'it is set by Elementum')
    const fail = (reason: string): never => {
      throw new UnmappableValueError(stream, name, value, reason)
    }
    if (info.kind === 'people') return assignee(value, fail)
    if (info.kind === 'datetime') {
      const t = timestampOf(value)
      return t === undefined ? fail('not an ISO 8601 date or date-time') : t
    }
    const s = textOf(value)
    if (name === 'Title' && (s === null || s.trim() === '')) fail('a record needs a Title')
    return s
  }

  return {
    field,

    read(snapshot, name) {
      const v = readSource(COLUMNS, snapshot, name)
      return (v === undefined && cursorFields.has(name) ? snapshot.remote_updated_at : v) ?? null
    },

    normalize,

    async toPayload(stream, values) {
      const body: Record<string, unknown> = {}
      for (const [name, value] of Object.entries(values)) if (value !== undefined) body[name] = wire(stream, name, value)
      return body
    },
  }
}
