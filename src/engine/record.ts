import { createHash } from 'node:crypto'
import type { ChangedFields, RemoteRecord, StatusCategory } from './types.js'
import { InvalidRecordError } from './errors.js'

/**
 * Pure record handling for the mirror: sanitising text Postgres cannot store,
 * canonical values, the content hash and the field-level diff.
 */

/** The normalized values of a record, exactly as diffed and stored in `snapshot`. */
export interface Snapshot {
  external_key: string | null
  title: string | null
  status: string | null
  status_category: StatusCategory | null
  priority: string | null
  due_at: string | null
  description: string | null
  assignees: { id: string | null; name: string | null }[]
  remote_created_at: string | null
  remote_updated_at: string | null
  fields: Record<string, unknown>
}

export interface MirrorRow {
  remoteId: string
  snapshot: Snapshot
  document: unknown
  contentHash: string
}

export interface SanitizeReport {
  nulBytesStripped: number
}

/**
 * Postgres text and jsonb cannot hold U+0000 or lone surrogates: strip NULs (counted,
 * so the run can report them) and replace lone surrogates, deep in any JSON value.
 */
export function sanitize<T>(value: T, report: SanitizeReport): T {
  if (typeof value === 'string') {
    let s: string = value
    if (s.includes('\u0000')) {
      report.nulBytesStripped += s.split('\u0000').length - 1
      s = s.replaceAll('\u0000', '')
    }
    return (s.isWellFormed() ? s : s.toWellFormed()) as T
  }
  if (Array.isArray(value)) return value.map((v) => sanitize(v, report)) as T
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[sanitize(k, report)] = sanitize(v, report)
    return out as T
  }
  return value
}

const MIN_TIME = Date.parse('0001-01-01T00:00:00Z')
const MAX_TIME = Date.parse('9999-12-31T23:59:59.999Z')

/**
 * An ISO-8601 UTC timestamp, or null when the value is absent, not a date, or outside
 * years 1–9999 (JavaScript accepts `0000-01-01`, Postgres does not). The raw value stays
 * in the record's document.
 */
export function canonicalTimestamp(value: string | null | undefined): string | null {
  if (value === null || value === undefined || value === '') return null
  const t = Date.parse(value)
  return Number.isNaN(t) || t < MIN_TIME || t > MAX_TIME ? null : new Date(t).toISOString()
}

/** JSON with object keys sorted, so equal values always hash equal. */
export function stableStringify(value: unknown): string {
  if (value === undefined) return 'null'
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`
  const keys = Object.keys(value)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`).join(',')}}`
}

const STATUS_CATEGORIES = new Set(['todo', 'in_progress', 'done'])
const text = (v: string | null | undefined): string | null => (v === undefined || v === null ? null : v)

export function toMirrorRow(record: RemoteRecord, report: SanitizeReport): MirrorRow {
  const r = sanitize(record, report)
  if (typeof r.remoteId !== 'string' || r.remoteId === '') throw new InvalidRecordError('record without a remote id')
  const snapshot: Snapshot = {
    external_key: text(r.externalKey),
    title: text(r.title),
    status: text(r.status),
    status_category: r.statusCategory && STATUS_CATEGORIES.has(r.statusCategory) ? r.statusCategory : null,
    priority: text(r.priority),
    due_at: canonicalTimestamp(r.dueAt),
    description: text(r.description),
    assignees: (r.assignees ?? []).map((a) => ({ id: a.id ?? null, name: a.name ?? null })),
    remote_created_at: canonicalTimestamp(r.remoteCreatedAt),
    remote_updated_at: canonicalTimestamp(r.remoteUpdatedAt),
    fields: r.fields ?? {},
  }
  const contentHash = createHash('sha256')
    .update(stableStringify({ snapshot, document: r.document }))
    .digest('base64url')
  return { remoteId: r.remoteId, snapshot, document: r.document ?? null, contentHash }
}

/**
 * Field-level changes from `old` to `next`: normalized columns by name, other source
 * fields as `fields.<name>`. With `old` null (an insert) every non-empty field is listed.
 * An update never lists `remote_updated_at`: it moves with every change (and with some
 * writes that change nothing), so it would only repeat that something changed; the row keeps it.
 */
export function diffSnapshots(old: Snapshot | null, next: Snapshot): ChangedFields {
  const changed: ChangedFields = {}
  const put = (key: string, a: unknown, b: unknown): void => {
    if (stableStringify(a ?? null) !== stableStringify(b ?? null)) changed[key] = { old: a ?? null, new: b ?? null }
  }
  for (const key of Object.keys(next) as (keyof Snapshot)[]) {
    if (key === 'fields' || (old && key === 'remote_updated_at')) continue
    put(key, old?.[key], next[key])
  }
  const names = new Set([...Object.keys(old?.fields ?? {}), ...Object.keys(next.fields)])
  for (const name of names) put(`fields.${name}`, old?.fields[name], next.fields[name])
  return changed
}
