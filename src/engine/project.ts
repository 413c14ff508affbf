import { FieldNotWritableError, UnmappableValueError, type FieldCatalog, type FieldKind } from './catalog.js'
import { toSyncError, type SyncError } from './errors.js'
import { canonicalTimestamp, stableStringify, type Snapshot } from './record.js'
import type { StreamRef } from './types.js'
import { otherSide, type MappedField, type MappingSpec, type Side } from './write.types.js'

/**
 * Projection of one mapped field's value from one side of a mapping to the other (pure):
 * the value map (left → right, read backwards right → left), a coercion between the two
 * vendors' field kinds, then the target catalog's `normalize`, so that the result compares
 * equal to what the target will store and read back (the echo of our own write).
 */

export interface SideCatalogs {
  left: FieldCatalog
  right: FieldCatalog
}

/** A value a mapping cannot carry to the other side: no entry in its value map, or not of the target field's kind. */
export class MappingValueError extends UnmappableValueError {
  constructor(
    readonly mapping: string,
    stream: StreamRef,
    field: string,
    value: unknown,
    reason: string,
  ) {
    super(`${stream.connection}/${stream.stream}`, field, value, `${reason} (mapping ${mapping})`)
  }
}

export type Projected = { ok: true; value: unknown } | { ok: false; error: SyncError }

/** How a mapped field is named in decisions, conflicts and held fields: both sides' names, which no other field of a mapping shares. */
export function fieldLabel(f: MappedField): string {
  return `${f.left} ↔ ${f.right}`
}

export const streamOf = (mapping: MappingSpec, side: Side): StreamRef => ({ connection: mapping[side].connection, stream: mapping[side].stream })

/** Values compare as their canonical JSON; undefined is null. */
export const sameValue = (a: unknown, b: unknown): boolean => stableStringify(a ?? null) === stableStringify(b ?? null)

/** Null, empty text and an empty list: a field with nothing in it. */
export const isEmpty = (v: unknown): boolean => v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0)

/** A side's current value of a mapped field, normalized by its own catalog. */
export function readSide(mapping: MappingSpec, catalogs: SideCatalogs, side: Side, f: MappedField, snapshot: Snapshot): unknown {
  const c = catalogs[side]
  return c.normalize(mapping[side].stream, f[side], c.read(snapshot, f[side])) ?? null
}

/** `value` (the `from` side's normalized value) in the other side's normalized form; never throws. */
export function project(mapping: MappingSpec, catalogs: SideCatalogs, f: MappedField, from: Side, value: unknown): Projected {
  const to = otherSide(from)
  const stream = streamOf(mapping, to)
  const name = f[to]
  const fail = (reason: string): Projected => ({ ok: false, error: new MappingValueError(mapping.id, stream, name, value, reason) })
  try {
    const target = catalogs[to].field(stream.stream, name)
    if (target && !target.writable) return { ok: false, error: new FieldNotWritableError(`${stream.connection}/${stream.stream}`, name, 'it is read-only') }
    let v: unknown = value ?? null
    if (f.values && !isEmpty(v)) {
      const mapped = mapValue(f.values, from, v)
      if (mapped === undefined) return fail(`the value map of ${fieldLabel(f)} has no ${from === 'left' ? 'entry' : 'entry mapping to it'}`)
      v = mapped
    }
    const fromKind = catalogs[from].field(mapping[from].stream, f[from])?.kind ?? 'text'
    const coerced = coerce(v, fromKind, target?.kind ?? 'text')
    if (!coerced.ok) return fail(coerced.reason)
    const out = catalogs[to].normalize(stream.stream, name, coerced.value) ?? null
    const allowed = target?.values
    if (allowed && typeof out === 'string' && !allowed.includes(out)) return fail(`${name} must be one of ${allowed.join(', ')}`)
    return { ok: true, value: out }
  } catch (err) {
    return { ok: false, error: toSyncError(err) }
  }
}

/**
 * The value map read in the direction of the projection; exact key first, then a unique
 * case-insensitive one. A left value with a list of right values writes the first; each maps back.
 */
export function mapValue(values: NonNullable<MappedField['values']>, from: Side, value: unknown): string | undefined {
  const key = typeof value === 'string' ? value : stableStringify(value)
  const entries = Object.entries(values).map(([l, r]): [string, readonly string[]] => [l, typeof r === 'string' ? [r] : r])
  const pairs: [string, string][] =
    from === 'left'
      ? entries.flatMap(([l, [first]]) => (first === undefined ? [] : [[l, first] as [string, string]]))
      : entries.flatMap(([l, rs]) => rs.map((r): [string, string] => [r, l]))
  const exact = pairs.find(([k]) => k === key)
  if (exact) return exact[1]
  const folded = pairs.filter(([k]) => k.toLowerCase() === key.toLowerCase())
  return folded.length === 1 ? folded[0]?.[1] : undefined
}

type Coerced = { ok: true; value: unknown } | { ok: false; reason: string }

const TEXT_KINDS: ReadonlySet<FieldKind> = new Set(['text', 'longtext', 'enum', 'status'])
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/

function asText(v: unknown): string {
  if (typeof v === 'string') return v
  if (Array.isArray(v)) return v.map((p) => (typeof p === 'string' ? p : (personName(p) ?? JSON.stringify(p)))).join(', ')
  return typeof v === 'object' ? JSON.stringify(v) : String(v)
}

function personName(p: unknown): string | undefined {
  if (!p || typeof p !== 'object') return undefined
  const o = p as { name?: unknown; id?: unknown }
  return typeof o.name === 'string' ? o.name : typeof o.id === 'string' ? o.id : undefined
}

/**
 * Between two vendors' kinds of field. Text kinds pass as text; dates become the
 * target's precision (a date-only value is midnight UTC); a value that is not of the
 * target's kind is refused rather than written as something else.
 */
function coerce(v: unknown, from: FieldKind, to: FieldKind): Coerced {
  if (v === null || v === undefined) return { ok: true, value: null }
  if (to === 'json' || (from === to && to !== 'datetime' && to !== 'date')) return { ok: true, value: v }
  if (TEXT_KINDS.has(to)) return { ok: true, value: asText(v) }
  const s = asText(v).trim()
  switch (to) {
    case 'datetime': {
      if (s === '') return { ok: true, value: null }
      const t = canonicalTimestamp(DATE_ONLY.test(s) ? `${s}T00:00:00.000Z` : s)
      return t === null ? { ok: false, reason: 'not an ISO 8601 date or date-time' } : { ok: true, value: t }
    }
    case 'date': {
      if (s === '') return { ok: true, value: null }
      const t = DATE_ONLY.test(s) ? canonicalTimestamp(s) && s : canonicalTimestamp(s)?.slice(0, 10)
      return t ? { ok: true, value: t } : { ok: false, reason: 'not an ISO 8601 date' }
    }
    case 'number': {
      if (typeof v === 'number' && Number.isFinite(v)) return { ok: true, value: v }
      const n = s === '' ? Number.NaN : Number(s)
      return Number.isFinite(n) ? { ok: true, value: n } : { ok: false, reason: 'not a number' }
    }
    case 'boolean': {
      if (typeof v === 'boolean') return { ok: true, value: v }
      const b = s.toLowerCase()
      return b === 'true' || b === 'false' ? { ok: true, value: b === 'true' } : { ok: false, reason: 'not true or false' }
    }
    case 'people':
      if (Array.isArray(v)) return { ok: true, value: v }
      if (typeof v === 'object') return { ok: true, value: [v] }
      return {
        ok: true,
        value: s
          .split(',')
          .map((n) => n.trim())
          .filter((n) => n !== ''),
      }
    default:
      return { ok: true, value: v }
  }
}
