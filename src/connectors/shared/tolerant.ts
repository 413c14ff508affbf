import { BadResponseError } from '../../http/errors.js'

/**
 * Tolerant reading of vendor payloads: the docs leave envelopes and field types open,
 * so accept every plausible shape, and fail with a clear message only when no shape fits.
 */

export type Json = Record<string, unknown>

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** The item list of a list response: a bare array, or the first array under one of `keys`. */
export function extractList(body: unknown, keys: readonly string[], what: string): unknown[] {
  if (Array.isArray(body)) return body
  if (isObject(body)) {
    for (const k of keys) {
      const v = body[k]
      if (Array.isArray(v)) return v
    }
  }
  const shape = Array.isArray(body) ? 'array' : isObject(body) ? `object with keys ${Object.keys(body).slice(0, 8).join(', ') || '(none)'}` : typeof body
  throw new BadResponseError(`${what}: expected a list (bare array or under ${keys.join('/')}), got ${shape}`)
}

/** A string field, accepting numbers (ids often arrive as either); null otherwise. */
export function str(v: unknown): string | null {
  if (typeof v === 'string') return v
  if (typeof v === 'number' && Number.isFinite(v)) return String(v)
  return null
}

/** The first present string among several candidate keys. */
export function firstStr(obj: Json, keys: readonly string[]): string | null {
  for (const k of keys) {
    const s = str(obj[k])
    if (s !== null && s !== '') return s
  }
  return null
}

export function num(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v)
  return null
}

/** A record's id; a record without one cannot be mirrored, so that is a clear error. */
export function requireId(obj: unknown, keys: readonly string[], what: string): string {
  if (isObject(obj)) {
    const id = firstStr(obj, keys)
    if (id) return id
  }
  throw new BadResponseError(`${what}: item without an id (looked for ${keys.join(', ')})`)
}

/** The fields of `obj` not in `known`, for the mirror's `fields` column. */
export function otherFields(obj: Json, known: readonly string[]): Json {
  const out: Json = {}
  const skip = new Set(known)
  for (const [k, v] of Object.entries(obj)) if (!skip.has(k)) out[k] = v
  return out
}

export { REDACTED } from '../../redact.js'
