import { SyncError } from '../../engine/errors.js'
import { jsonExcerpt, stableStringify } from '../../engine/record.js'
import type { QuarantinedItem } from '../../engine/types.js'
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

/**
 * A person as an API names one — a string (a name, an e-mail, an id) or a user object read by
 * its name, else its e-mail or id; null when there is none.
 */
export function personName(v: unknown): string | null {
  if (isObject(v)) {
    const full = [str(v.firstName), str(v.lastName)].filter((s) => s !== null && s.trim() !== '').join(' ')
    return firstStr(v, ['name', 'displayName']) ?? (full !== '' ? full : null) ?? firstStr(v, ['email', 'id'])
  }
  const s = str(v)?.trim()
  return s ? s : null
}

export function num(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v)
  return null
}

/**
 * A record's id; a record without one cannot be mirrored, so that is a clear error (in a list,
 * `readItems` quarantines the item; give a `what` without positions there, it is the reason).
 */
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

export interface ReadItems<T> {
  good: T[]
  quarantined: QuarantinedItem[]
}

/** What a collision is called in the quarantine; stable text, so repeats count on one row. */
export const ID_COLLISION = 'id collision: different items of one page have this id once normalized (e.g. 1 and "1"); none of them is mirrored'

/**
 * The items of one list response read one at a time, so that one bad item never fails the
 * page: an item `read` throws on is quarantined with the error's message as the reason.
 * Different items whose ids normalize to the same text (`1` and `"1"`) cannot both be the
 * record of that id, and picking one would silently drop the other: all of them are left out
 * and quarantined as one collision (their stored record, if any, is kept as it was). The same
 * item listed twice is no collision: both copies are returned, as before.
 * `items` must already be redacted: the quarantine keeps an excerpt of them.
 */
export function readItems<T>(
  items: readonly unknown[],
  read: (item: unknown) => T,
  idOf: (value: T) => string,
  rawIdOf: (item: unknown) => string | null = (item) => (isObject(item) ? str(item.id) : null),
): ReadItems<T> {
  const quarantined: QuarantinedItem[] = []
  const ok: { item: unknown; value: T; id: string }[] = []
  for (const item of items) {
    try {
      const value = read(item)
      ok.push({ item, value, id: idOf(value) })
    } catch (err) {
      const id = safely(() => rawIdOf(item))
      quarantined.push({ remoteId: id ?? null, reason: reasonOf(err), ...excerptOf([item]) })
    }
  }
  const byId = new Map<string, unknown[]>()
  for (const r of ok) byId.set(r.id, [...(byId.get(r.id) ?? []), r.item])
  const colliding = new Set<string>()
  for (const [id, same] of byId) {
    if (same.length < 2) continue
    const distinct = new Set(same.map((item) => safely(() => stableStringify(item)) ?? Symbol()))
    if (distinct.size < 2) continue
    colliding.add(id)
    quarantined.push({ remoteId: id, reason: ID_COLLISION, ...excerptOf(same) })
  }
  return { good: ok.filter((r) => !colliding.has(r.id)).map((r) => r.value), quarantined }
}

/** Our own errors say what is wrong; anything else (a stack overflow on a deep value) says where it happened. */
function reasonOf(err: unknown): string {
  if (err instanceof SyncError) return err.message
  return `could not be read: ${err instanceof Error ? err.message : String(err)}`
}

/** The excerpt of one item, or of the first few sharing the budget (one per line). */
function excerptOf(items: readonly unknown[]): { excerpt?: string } {
  const shown = items.slice(0, 5)
  const each = Math.floor(500 / shown.length) - 1
  const parts = shown.map((item) => safely(() => jsonExcerpt(item, each)))
  return parts.every((p) => p === undefined) ? {} : { excerpt: parts.map((p) => p ?? '?').join('\n') }
}

function safely<T>(fn: () => T): T | undefined {
  try {
    return fn()
  } catch {
    return undefined
  }
}

export { REDACTED } from '../../redact.js'
