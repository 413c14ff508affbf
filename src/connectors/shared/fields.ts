import { FieldNotWritableError, type FieldCatalog, type FieldInfo, type FieldKind } from '../../engine/catalog.js'
import { canonicalTimestamp, type Snapshot } from '../../engine/record.js'

/**
 * Value coercions shared by the vendors' field catalogs, and the read-only catalog of the
 * vendors elsync only mirrors. Each vendor's catalog decides what it stores; these helpers
 * only give the canonical forms they agree on (ISO timestamps in UTC with milliseconds,
 * `YYYY-MM-DD` dates, people as their names).
 */

/** Text of a scalar; null for null and undefined; other values as JSON. */
export function textOf(value: unknown): string | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value)
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString()
  return JSON.stringify(value)
}

/** `YYYY-MM-DDTHH:MM:SS.sssZ`, or null for an empty value, or undefined when the value is not a date. */
export function timestampOf(value: unknown): string | null | undefined {
  const s = value instanceof Date ? (Number.isNaN(value.getTime()) ? '' : value.toISOString()) : textOf(value)
  if (s === null || s.trim() === '') return null
  return canonicalTimestamp(s.trim()) ?? undefined
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/

/** `YYYY-MM-DD` (the UTC date of a timestamp), or null for an empty value, or undefined when the value is not a date. */
export function dateOf(value: unknown): string | null | undefined {
  const s = textOf(value)?.trim()
  if (s === undefined || s === '') return null
  if (DATE_ONLY.test(s)) return canonicalTimestamp(s) === null ? undefined : s
  return timestampOf(s)?.slice(0, 10)
}

/** The people of a value: a name, a list of names, or `{id, name}` objects (as in `Snapshot.assignees`). */
export function peopleOf(value: unknown): { id: string | null; name: string | null }[] {
  if (value === null || value === undefined) return []
  if (Array.isArray(value)) return value.flatMap(peopleOf)
  if (typeof value === 'object') {
    const o = value as { id?: unknown; name?: unknown }
    const id = textOf(o.id)
    const name = textOf(o.name)
    return id === null && name === null ? [] : [{ id, name }]
  }
  const name = textOf(value)?.trim()
  return name ? [{ id: null, name }] : []
}

/** People compare by name across vendors (ids are each vendor's own): sorted names, id where a name is missing. */
export function peopleNames(value: unknown): string[] {
  return peopleOf(value)
    .map((p) => p.name ?? p.id ?? '')
    .filter((n) => n !== '')
    .sort()
}

function numberOf(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null
  const s = textOf(value)?.trim()
  return s && Number.isFinite(Number(s)) ? Number(s) : null
}

function booleanOf(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value
  const s = textOf(value)?.trim().toLowerCase()
  return s === 'true' ? true : s === 'false' ? false : null
}

/**
 * A value in the canonical form of its kind, for vendors that store it as read. A value
 * that is not of its kind (a date that does not parse) is kept, so it still compares.
 */
export function canonicalValue(kind: FieldKind, value: unknown): unknown {
  if (value === undefined || value === null) return kind === 'people' ? [] : null
  switch (kind) {
    case 'datetime': {
      const t = timestampOf(value)
      return t === undefined ? value : t
    }
    case 'date': {
      const d = dateOf(value)
      return d === undefined ? value : d
    }
    case 'number':
      return numberOf(value) ?? value
    case 'boolean':
      return booleanOf(value) ?? value
    case 'people':
      return peopleNames(value)
    case 'json':
      return value
    default:
      return textOf(value)
  }
}

/** A source field kept in `fields` (undefined when the record has none of that name). */
export function fieldValue(snapshot: Snapshot, name: string): unknown {
  return Object.hasOwn(snapshot.fields, name) ? snapshot.fields[name] : undefined
}

/** Snapshot column readers keyed by the source field they were normalized from. */
export type Columns = Readonly<Record<string, (s: Snapshot) => unknown>>

/** A source field's value: from its column when the normalizer moved it to one, else from `fields` (undefined: neither). */
export function readSource(columns: Columns, snapshot: Snapshot, name: string): unknown {
  const column = columns[name]
  return column ? column(snapshot) : fieldValue(snapshot, name)
}

export interface ReadOnlyFields {
  field(stream: string, name: string): FieldInfo | null
  read(snapshot: Snapshot, name: string): unknown
}

/** The catalog of a vendor elsync only reads: mappings may take values from it, a push may write none. */
export function createReadOnlyCatalog(kind: string, fields: ReadOnlyFields): FieldCatalog {
  return {
    field: (stream, name) => fields.field(stream, name),
    read: (snapshot, name) => fields.read(snapshot, name) ?? null,
    normalize: (stream, name, value) => canonicalValue(fields.field(stream, name)?.kind ?? 'json', value),
    async toPayload(stream, values) {
      const name = Object.keys(values)[0]
      if (name === undefined) return {}
      throw new FieldNotWritableError(stream, name, `elsync does not write to ${kind} connections`)
    },
  }
}
