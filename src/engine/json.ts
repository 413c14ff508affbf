import { InvalidRecordError } from './errors.js'

/**
 * JSON walks that never recurse. Source documents are arbitrary JSON, and a document nested a
 * few thousand levels deep overflows the call stack of any recursive walk (V8's own
 * `JSON.stringify` gives up near 4 500 levels), failing every page that carries it. These
 * walks keep their own stack, so depth costs memory, never the call stack.
 */

/**
 * The deepest nesting a record may have. Past it a record is quarantined: V8's `JSON.stringify`
 * fails near 4 500 levels (fewer when called deep in a stack), and Postgres parses jsonb
 * recursively within `max_stack_depth` (about 13 000 levels at the default 2 MB, about 650 at
 * the smallest setting, 100 kB). 256 is far beyond real payloads and safe everywhere.
 */
export const MAX_DEPTH = 256

/** A value nested deeper than a walk allows. */
export class NestingTooDeepError extends InvalidRecordError {
  constructor(readonly maxDepth: number) {
    super(`nested deeper than ${maxDepth} levels`)
  }
}

interface Frame {
  value: unknown[] | Record<string, unknown>
  /** Sorted keys of an object whose value is not undefined; null for an array. */
  keys: string[] | null
  next: number
}

function frameOf(value: object): Frame {
  if (Array.isArray(value)) return { value, keys: null, next: 0 }
  const obj = value as Record<string, unknown>
  return {
    value: obj,
    keys: Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort(),
    next: 0,
  }
}

const scalar = (v: unknown): string => (v === undefined ? 'null' : String(JSON.stringify(v)))

/**
 * JSON with object keys sorted, stopping once the text reaches `limit` characters (the text
 * so far is returned, possibly longer than `limit` by one token).
 */
function writeSorted(value: unknown, limit: number): string {
  if (value === null || typeof value !== 'object') return scalar(value)
  const stack: Frame[] = [frameOf(value)]
  let out = Array.isArray(value) ? '[' : '{'
  while (stack.length > 0 && out.length < limit) {
    const top = stack[stack.length - 1] as Frame
    const size = top.keys ? top.keys.length : (top.value as unknown[]).length
    if (top.next >= size) {
      out += top.keys ? '}' : ']'
      stack.pop()
      continue
    }
    if (top.next > 0) out += ','
    let child: unknown
    if (top.keys) {
      const key = top.keys[top.next] as string
      out += `${JSON.stringify(limit === Number.POSITIVE_INFINITY ? key : key.slice(0, limit))}:`
      child = (top.value as Record<string, unknown>)[key]
    } else child = (top.value as unknown[])[top.next]
    top.next += 1
    if (child !== null && typeof child === 'object') {
      out += Array.isArray(child) ? '[' : '{'
      stack.push(frameOf(child))
    } else out += scalar(typeof child === 'string' && child.length > limit ? child.slice(0, limit) : child)
  }
  return out
}

/**
 * How deep the recursive writer goes before it hands the value to the iterative one. Records are
 * at most `MAX_DEPTH` levels deep, so they take the recursive path, which is several times faster
 * (no frames, no sorted-key arrays kept per level); both write the same text.
 */
const RECURSION_LIMIT = MAX_DEPTH + 8

/** Thrown by `writeRecursive` past `RECURSION_LIMIT`: the value is written by `writeSorted` instead. */
const TOO_DEEP: unique symbol = Symbol('too deep')

function writeRecursive(value: unknown, depth: number): string {
  if (value === null || typeof value !== 'object') return scalar(value)
  if (depth > RECURSION_LIMIT) throw TOO_DEEP
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + writeRecursive(value[i], depth + 1)
    return `${out}]`
  }
  const obj = value as Record<string, unknown>
  const keys = Object.keys(obj).sort()
  let out = '{'
  for (const key of keys) {
    const child = obj[key]
    if (child === undefined) continue
    out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${writeRecursive(child, depth + 1)}`
  }
  return `${out}}`
}

/** JSON with object keys sorted, so equal values always hash equal. Undefined is `null`, as in an array. */
export function stableStringify(value: unknown): string {
  try {
    return writeRecursive(value, 1)
  } catch (err) {
    if (err !== TOO_DEEP) throw err
    return writeSorted(value, Number.POSITIVE_INFINITY)
  }
}

/** The start of a value's JSON text, at most `max` characters, for a person to recognise the item by. */
export function jsonExcerpt(value: unknown, max = 500): string {
  const text = writeSorted(value, max + 1)
  return (text.length > max ? `${text.slice(0, max - 1)}…` : text).toWellFormed()
}

export interface SanitizeReport {
  nulBytesStripped: number
}

/**
 * Postgres text and jsonb cannot hold U+0000 or lone surrogates: `value` with NULs stripped
 * (counted, so the run can report them) and lone surrogates replaced, keys included. A value with
 * nothing to mend is returned as it is; otherwise the result is a copy, the input left unchanged.
 * Throws `NestingTooDeepError` past `maxDepth` levels (a scalar is level 0, `[]` level 1).
 */
export function sanitize<T>(value: T, report: SanitizeReport, maxDepth = Number.POSITIVE_INFINITY): T {
  // nearly every value is clean: finding that out reads it once and allocates nothing
  if (!needsMending(value, maxDepth)) return value
  return mended(value, report, maxDepth)
}

/** Whether a string holds what Postgres cannot store (a NUL, a lone surrogate). */
const unstorable = (s: string): boolean => s.includes('\u0000') || !s.isWellFormed()

/**
 * Whether `sanitize` has something to mend in `value` (a string or key Postgres cannot store);
 * throws `NestingTooDeepError` past `maxDepth`, as the copy would. Never recurses.
 */
function needsMending(value: unknown, maxDepth: number): boolean {
  if (typeof value === 'string') return unstorable(value)
  if (value === null || typeof value !== 'object') return false
  const values: object[] = [value]
  const depths: number[] = [1]
  for (let v = values.pop(); v !== undefined; v = values.pop()) {
    const depth = depths.pop() as number
    if (depth > maxDepth) throw new NestingTooDeepError(maxDepth)
    const isArray = Array.isArray(v)
    for (const key in v) {
      if (!isArray && unstorable(key)) return true
      const child = (v as Record<string, unknown>)[key]
      if (typeof child === 'string') {
        if (unstorable(child)) return true
      } else if (child !== null && typeof child === 'object') {
        values.push(child)
        depths.push(depth + 1)
      }
    }
  }
  return false
}

/** The copy `sanitize` returns when something must be mended. */
function mended<T>(value: T, report: SanitizeReport, maxDepth: number): T {
  const text = (s: string): string => {
    let t = s
    if (t.includes('\u0000')) {
      report.nulBytesStripped += t.split('\u0000').length - 1
      t = t.replaceAll('\u0000', '')
    }
    return t.isWellFormed() ? t : t.toWellFormed()
  }
  const pending: { from: object; to: unknown[] | Record<string, unknown>; depth: number }[] = []
  const copy = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return text(v)
    if (v === null || typeof v !== 'object') return v
    if (depth > maxDepth) throw new NestingTooDeepError(maxDepth)
    const to = Array.isArray(v) ? new Array<unknown>(v.length) : {}
    pending.push({ from: v, to, depth })
    return to
  }
  const root = copy(value, 1)
  for (let job = pending.pop(); job !== undefined; job = pending.pop()) {
    const { from, to, depth } = job
    if (Array.isArray(from)) for (let i = 0; i < from.length; i++) (to as unknown[])[i] = copy(from[i], depth + 1)
    else for (const [k, v] of Object.entries(from)) own(to as Record<string, unknown>, text(k), copy(v, depth + 1))
  }
  return root as T
}

/** Whether `value` nests deeper than `max` levels (a scalar is level 0, `[]` level 1), without copying it. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const pending: [unknown, number][] = [[value, 1]]
  for (let job = pending.pop(); job !== undefined; job = pending.pop()) {
    const [v, depth] = job
    if (v === null || typeof v !== 'object') continue
    if (depth > max) return true
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') pending.push([child, depth + 1])
  }
  return false
}

/** Sets an own property, even one named `__proto__` (which JSON.parse makes an own key, and plain assignment would not). */
function own(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true })
  else obj[key] = value
}
