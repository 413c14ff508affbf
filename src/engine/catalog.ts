import type { Snapshot } from './record.js'
import { SyncError } from './errors.js'

/**
 * A vendor's field catalog, both ways: from a mirrored record to the value a mapping names,
 * and from a mapping's value to the vendor's write payload. Reconcile compares values after
 * `normalize`, so that our own write, read back on the next poll, equals the link's base.
 */

/** How reconcile coerces a value from one vendor's field to another's. */
export type FieldKind = 'text' | 'longtext' | 'datetime' | 'date' | 'enum' | 'status' | 'number' | 'boolean' | 'people' | 'json'

export interface FieldInfo {
  /** The source field name as a mapping writes it (`Title`, `dueDate`). */
  name: string
  kind: FieldKind
  /** A push may set it (ids and timestamps may not). */
  writable: boolean
  /** The allowed values of an enum, where the vendor documents them. */
  values?: readonly string[]
}

export interface FieldCatalog {
  /** What the vendor knows of a field of this stream; null when it is not a field of this kind. */
  field(stream: string, name: string): FieldInfo | null
  /** A source field's value read from a mirrored record (a normalized column or `fields.<name>`). */
  read(snapshot: Snapshot, name: string): unknown
  /** The value as the vendor would store it (trimmed text, date precision, enum case). */
  normalize(stream: string, name: string, value: unknown): unknown
  /** The wire payload that sets these fields (Elean: a status name becomes its `statusId`). */
  toPayload(stream: string, values: Readonly<Record<string, unknown>>, signal: AbortSignal): Promise<Record<string, unknown>>
}

/** How much of a value an error message shows: values are record data, and may be long. */
function preview(value: unknown): string {
  const s = typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value) ?? value)
  return s.length > 80 ? `${s.slice(0, 77)}...` : s
}

/** A push named a field the vendor does not let it set (an id, a timestamp, a read-only vendor). */
export class FieldNotWritableError extends SyncError {
  override readonly code = 'field_not_writable'
  constructor(
    readonly stream: string,
    readonly field: string,
    reason: string,
  ) {
    super(`stream ${stream}: field "${field}" cannot be written: ${reason}`)
  }
}

/** A value the target cannot store in that field (an unknown status name, a malformed date). */
export class UnmappableValueError extends SyncError {
  override readonly code = 'unmappable_value'
  constructor(
    readonly stream: string,
    readonly field: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`stream ${stream}: field "${field}" cannot take the value ${preview(value)}: ${reason}`)
  }
}
