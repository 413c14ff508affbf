import { createHash } from 'node:crypto'
import type { ChangedFields, RemoteRecord, StatusCategory } from './types.js'
import { InvalidRecordError } from './errors.js'
import { MAX_DEPTH, sanitize, stableStringify, type SanitizeReport } from './json.js'

export { jsonExcerpt, MAX_DEPTH, nestedDeeperThan, sanitize, stableStringify, type SanitizeReport } from './json.js'

/**
 * Pure record handling for the mirror: canonical values, the content hash and the
 * field-level diff (the JSON walks they use are in json.ts).
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
  /**
   * Who created and who last changed the record, present only where the source says: a record
   * whose source names no one hashes exactly as it did before these keys existed.
   */
  created_by?: string
  updated_by?: string
  fields: Record<string, unknown>
}

export interface MirrorRow {
  remoteId: string
  snapshot: Snapshot
  document: unknown
  contentHash: string
}

const MIN_TIME = Date.parse('0001-01-01T00:00:00Z')
const MAX_TIME = Date.parse('9999-12-31T23:59:59.999Z')

const isoWithinRange = (t: number): string | null => (Number.isNaN(t) || t < MIN_TIME || t > MAX_TIME ? null : new Date(t).toISOString())

/**
 * An ISO-8601 UTC timestamp, or null when the value is absent, not a date, or outside
 * years 1–9999 (JavaScript accepts `0000-01-01`, Postgres does not). A number is an epoch
 * time (see `epochTimestamp`). The raw value stays in the record's document.
 */
export function canonicalTimestamp(value: string | number | null | undefined): string | null {
  if (typeof value === 'number') return epochTimestamp(value)
  if (typeof value !== 'string' || value === '') return null
  return isoWithinRange(Date.parse(value))
}

/**
 * An epoch time as ISO-8601: seconds below 1e11 (until the year 5138), milliseconds from there;
 * null when it is not finite or falls outside years 1–9999 (`new Date(1e20).toISOString()` throws).
 */
export function epochTimestamp(value: number): string | null {
  if (!Number.isFinite(value)) return null
  return isoWithinRange(Math.abs(value) < 1e11 ? value * 1000 : value)
}

const STATUS_CATEGORIES = new Set(['todo', 'in_progress', 'done'])
const text = (v: string | null | undefined): string | null => (v === undefined || v === null ? null : v)

/**
 * The mirror row of a record. Throws `InvalidRecordError` for a record that cannot be stored:
 * without a remote id, or nested deeper than `MAX_DEPTH` levels (the record object is level 1,
 * its document level 2); the page writer quarantines such a record and saves the rest of the page.
 */
export function toMirrorRow(record: RemoteRecord, report: SanitizeReport): MirrorRow {
  const r = sanitize(record, report, MAX_DEPTH)
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
    ...(r.createdBy ? { created_by: r.createdBy } : {}),
    ...(r.updatedBy ? { updated_by: r.updatedBy } : {}),
    fields: r.fields ?? {},
  }
  const contentHash = createHash('sha256')
    .update(stableStringify({ snapshot, document: r.document }))
    .digest('base64url')
  return { remoteId: r.remoteId, snapshot, document: r.document ?? null, contentHash }
}

/**
 * A page's records as mirror rows, made ahead of the page's transaction: `runStream` makes them
 * for the next page while the current one is being saved (see poll.ts), so the canonical JSON
 * and hashes overlap the database's work instead of adding to it.
 */
export interface PreparedRecords {
  /** The records these rows were made from (the page writer checks it is the page's own list). */
  of: readonly RemoteRecord[]
  rows: MirrorRow[]
  /** Records the mirror cannot store (`toMirrorRow` threw): the page writer quarantines them. */
  failed: { record: RemoteRecord; err: unknown }[]
  nulBytesStripped: number
}

export function prepareRecords(records: readonly RemoteRecord[]): PreparedRecords {
  const report: SanitizeReport = { nulBytesStripped: 0 }
  const rows: MirrorRow[] = []
  const failed: PreparedRecords['failed'] = []
  for (const record of records) {
    try {
      rows.push(toMirrorRow(record, report))
    } catch (err) {
      failed.push({ record, err })
    }
  }
  return { of: records, rows, failed, nulBytesStripped: report.nulBytesStripped }
}

/**
 * Columns an update does not list: they move with every change (and with some writes that
 * change nothing), so they would only repeat that something changed. The row keeps them, and
 * the history row names the actor in a column of its own.
 */
const MOVES_WITH_EVERY_CHANGE: ReadonlySet<string> = new Set(['remote_updated_at', 'updated_by'])

/**
 * Field-level changes from `old` to `next`: normalized columns by name, other source
 * fields as `fields.<name>`. With `old` null (an insert) every non-empty field is listed.
 * An update never lists `remote_updated_at` or `updated_by` (see `MOVES_WITH_EVERY_CHANGE`).
 */
export function diffSnapshots(old: Snapshot | null, next: Snapshot): ChangedFields {
  if (old === null) return insertedFields(next)
  const changed: ChangedFields = {}
  const put = (key: string, a: unknown, b: unknown): void => {
    if (stableStringify(a ?? null) !== stableStringify(b ?? null)) changed[key] = { old: a ?? null, new: b ?? null }
  }
  const columns = new Set([...Object.keys(old ?? {}), ...Object.keys(next)] as (keyof Snapshot)[])
  for (const key of columns) {
    if (key === 'fields' || (old && MOVES_WITH_EVERY_CHANGE.has(key))) continue
    put(key, old?.[key], next[key])
  }
  const names = new Set([...Object.keys(old?.fields ?? {}), ...Object.keys(next.fields)])
  for (const name of names) put(`fields.${name}`, old?.fields[name], next.fields[name])
  return changed
}

/** Whether a value writes as JSON `null` (so an insert does not list it): null, undefined, NaN, ±Infinity. */
const writesNull = (v: unknown): boolean => v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))

/** `diffSnapshots(null, next)` without comparing each value with null as text: every field that is not null. */
function insertedFields(next: Snapshot): ChangedFields {
  const changed: ChangedFields = {}
  for (const [key, value] of Object.entries(next)) {
    if (key !== 'fields' && !writesNull(value)) changed[key] = { old: null, new: value }
  }
  for (const [name, value] of Object.entries(next.fields)) if (!writesNull(value)) changed[`fields.${name}`] = { old: null, new: value }
  return changed
}

/**
 * Who made the change that a write of `next` records, as far as the source says: the last
 * updater, or for an insert of a record the source names no updater of, its creator.
 */
export function actorOf(op: 'insert' | 'update' | 'restore', next: Snapshot): string | null {
  return next.updated_by ?? (op === 'insert' ? next.created_by : undefined) ?? null
}
