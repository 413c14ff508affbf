import { describe, expect, it } from 'vitest'
import { InvalidRecordError } from '../../src/engine/errors.js'
import { jsonExcerpt, MAX_DEPTH, NestingTooDeepError, sanitize, stableStringify } from '../../src/engine/json.js'
import { canonicalTimestamp, diffSnapshots, epochTimestamp, toMirrorRow } from '../../src/engine/record.js'

/** `[[[…0…]]]` nested `levels` deep, built without recursion. */
function nested(levels: number, leaf: unknown = 0): unknown {
  let v = leaf
  for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { a: v }
  return v
}

/** The recursive stableStringify this project hashed records with: the iterative one must write the same text. */
function recursiveStableStringify(value: unknown): string {
  if (value === undefined) return 'null'
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(recursiveStableStringify).join(',')}]`
  const obj = value as Record<string, unknown>
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${recursiveStableStringify(obj[k])}`).join(',')}}`
}

describe('stableStringify', () => {
  it('writes exactly what the recursive version wrote, so stored content hashes stay valid', () => {
    const samples: unknown[] = [
      null,
      undefined,
      0,
      -1.5e300,
      Number.NaN,
      '',
      'é\u0000"\\\n',
      true,
      [],
      {},
      [undefined, null, 1, 'x', [[]], {}],
      { b: 1, a: { d: [1, { z: undefined, y: null }], c: '' }, ü: true, '': 0, '10': 1, '9': 2 },
      { snapshot: { title: 'T', fields: { list: [1, 2, { k: 'v' }] } }, document: { id: 'X-1', nested: nested(30) } },
      new Date(0),
    ]
    for (const v of samples) expect(stableStringify(v)).toBe(recursiveStableStringify(v))
  })

  it('writes the same text on either side of the depth where it stops recursing', () => {
    for (const levels of [MAX_DEPTH, MAX_DEPTH + 8, MAX_DEPTH + 9, MAX_DEPTH + 40]) {
      const v = { id: 'x', tree: nested(levels, 'leaf'), list: [1, { b: 2, a: undefined }] }
      expect(stableStringify(v)).toBe(recursiveStableStringify(v))
    }
  })

  it('writes a value nested 100 000 deep without overflowing the call stack', () => {
    const text = stableStringify(nested(100_000))
    expect(text.startsWith('[{"a":[{"a":')).toBe(true)
    expect(text.length).toBeGreaterThan(400_000)
  })
})

describe('sanitize', () => {
  it('strips NULs and mends lone surrogates in keys and values, and counts the NULs', () => {
    const report = { nulBytesStripped: 0 }
    expect(sanitize({ 'k\u0000': ['a\u0000b', 'x\ud800'], n: 1, z: null }, report)).toEqual({ k: ['ab', 'x\ufffd'], n: 1, z: null })
    expect(report.nulBytesStripped).toBe(2)
  })

  it('copies a value nested 5 000 deep, and refuses one deeper than its limit', () => {
    const deep = nested(5_000, 'a\u0000')
    const report = { nulBytesStripped: 0 }
    expect(stableStringify(sanitize(deep, report))).toBe(stableStringify(nested(5_000, 'a')))
    expect(report.nulBytesStripped).toBe(1)
    expect(() => sanitize(nested(11), report, 10)).toThrow(NestingTooDeepError)
    expect(() => sanitize(nested(10), report, 10)).not.toThrow()
  })

  it('returns a value with nothing to mend as it is, and never changes its input', () => {
    const clean = { a: ['x', { b: 'y' }], n: 1 }
    expect(sanitize(clean, { nulBytesStripped: 0 })).toBe(clean)
    const dirty = { a: ['x', { b: 'y\u0000' }], n: 1 }
    const out = sanitize(dirty, { nulBytesStripped: 0 })
    expect(out).toEqual({ a: ['x', { b: 'y' }], n: 1 })
    expect(dirty.a[1]).toEqual({ b: 'y\u0000' })
    expect(() => sanitize(nested(11), { nulBytesStripped: 0 }, 10)).toThrow(NestingTooDeepError)
  })

  it('keeps a key named __proto__ as data', () => {
    const out = sanitize(JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>, { nulBytesStripped: 0 })
    expect(Object.keys(out)).toEqual(['__proto__', 'a'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
  })
})

describe('jsonExcerpt', () => {
  it('gives the start of the JSON text, at most the given length, whatever the depth or size', () => {
    expect(jsonExcerpt({ b: 2, a: 'x' })).toBe('{"a":"x","b":2}')
    const deep = jsonExcerpt({ id: 'deep', tree: nested(100_000) })
    expect(deep).toMatch(/^\{"id":"deep","tree":\[\{"a":\[/)
    expect(deep).toHaveLength(500)
    expect(deep.endsWith('…')).toBe(true)
    expect(jsonExcerpt({ text: 'y'.repeat(10_000_000) }, 50)).toHaveLength(50)
  })
})

describe('records the mirror cannot store', () => {
  it(`refuses a record nested deeper than ${MAX_DEPTH} levels as an invalid_record error, and stores one just within`, () => {
    const report = { nulBytesStripped: 0 }
    const attempt = () => toMirrorRow({ remoteId: 'deep', fields: { tree: nested(5_000) }, document: { tree: nested(5_000) } }, report)
    expect(attempt).toThrow(InvalidRecordError)
    expect(attempt).toThrow(`nested deeper than ${MAX_DEPTH} levels`)
    // the record is level 1, its document level 2
    const row = toMirrorRow({ remoteId: 'ok', document: nested(MAX_DEPTH - 1) }, report)
    expect(row.remoteId).toBe('ok')
    expect(Object.keys(diffSnapshots(null, row.snapshot))).toEqual(['assignees'])
  })

  it('makes timestamps out of range null, as numbers (epoch seconds or milliseconds) too', () => {
    expect(epochTimestamp(1e20)).toBeNull()
    expect(epochTimestamp(-1e15)).toBeNull()
    expect(epochTimestamp(Number.POSITIVE_INFINITY)).toBeNull()
    expect(epochTimestamp(1_767_225_600)).toBe('2026-01-01T00:00:00.000Z')
    expect(epochTimestamp(1_767_225_600_000)).toBe('2026-01-01T00:00:00.000Z')
    expect(epochTimestamp(-200_000_000_000)).toBe(new Date(-200_000_000_000).toISOString())
    expect(canonicalTimestamp(1e20)).toBeNull()
    const row = toMirrorRow(
      { remoteId: 'x', remoteUpdatedAt: 1e20 as unknown as string, dueAt: '+275760-09-13T00:00:00.000Z', document: {} },
      { nulBytesStripped: 0 },
    )
    expect(row.snapshot).toMatchObject({ remote_updated_at: null, due_at: null })
  })
})
