import { describe, expect, it } from 'vitest'
import { restStreamSchema } from '../../src/connectors/rest/index.js'
import { itemsOf, normalizeRest } from '../../src/connectors/rest/rest.normalize.js'
import { getPath, nextFromLinkHeader, scanPages } from '../../src/connectors/shared/paging.js'
import { ID_COLLISION, isObject, readItems, str } from '../../src/connectors/shared/tolerant.js'
import type { Page } from '../../src/engine/types.js'

const stream = (over: Record<string, unknown> = {}) => restStreamSchema.parse({ path: '/x', pagination: { style: 'none' }, ...over })

describe('Link header', () => {
  it('finds rel="next" among several links, with quoted, unquoted and multi-valued rel', () => {
    expect(nextFromLinkHeader('<https://a/x?page=1>; rel="prev", <https://a/x?page=3>; rel="next"')).toBe('https://a/x?page=3')
    expect(nextFromLinkHeader('</x?p=2>; rel=next')).toBe('/x?p=2')
    expect(nextFromLinkHeader('</x?p=2>; title="a, b"; rel="next last"')).toBe('/x?p=2')
    expect(nextFromLinkHeader(['</x?p=1>; rel="first"', '</x?p=4>; REL="Next"'])).toBe('/x?p=4')
  })

  it('returns nothing without a next relation', () => {
    expect(nextFromLinkHeader('</x?p=1>; rel="first", </x?p=9>; rel="last"')).toBeUndefined()
    expect(nextFromLinkHeader(undefined)).toBeUndefined()
  })
})

describe('rest items and records', () => {
  it('reads dotted paths through objects and array indexes', () => {
    expect(getPath({ a: { b: [{ c: 1 }] } }, 'a.b.0.c')).toBe(1)
    expect(getPath({ a: 1 }, 'a.b')).toBeUndefined()
  })

  it('takes items from itemsPath, the bare body, or a common envelope, and treats a null list as empty', () => {
    expect(itemsOf({ data: { items: [1] } }, stream({ itemsPath: 'data.items' }), 'x')).toEqual([1])
    expect(itemsOf([2], stream(), 'x')).toEqual([2])
    expect(itemsOf({ results: [3] }, stream(), 'x')).toEqual([3])
    expect(itemsOf({ data: { items: null } }, stream({ itemsPath: 'data.items' }), 'x')).toEqual([])
    expect(() => itemsOf({ page: 1 }, stream(), 'GET /x')).toThrow(/expected a list .*object with keys page/)
  })

  it('maps id, title, status and update time, leaving the other fields', () => {
    const s = stream({ idField: 'ref.code', updatedField: 'modified' })
    expect(normalizeRest({ ref: { code: 7 }, name: 'Seven', status: 'open', modified: 1767225600, extra: true }, s, 'x')).toEqual({
      remoteId: '7',
      title: 'Seven',
      status: 'open',
      remoteUpdatedAt: '2026-01-01T00:00:00.000Z',
      fields: { ref: { code: 7 }, extra: true },
      document: { ref: { code: 7 }, name: 'Seven', status: 'open', modified: 1767225600, extra: true },
    })
  })

  it('maps the declared creator and updater fields, a name or a user object, to the actor columns', () => {
    const s = stream({ createdByField: 'author', updatedByField: 'meta.editor' })
    const r = normalizeRest({ id: 'a', author: { displayName: 'Ada' }, meta: { editor: 'grace@example.com' }, x: 1 }, s, 'x')
    expect(r).toMatchObject({ createdBy: 'Ada', updatedBy: 'grace@example.com' })
    expect(r.fields).toEqual({ meta: { editor: 'grace@example.com' }, x: 1 })
    expect(normalizeRest({ id: 'b' }, stream(), 'x')).not.toHaveProperty('createdBy')
  })

  it('makes a numeric update time outside years 1–9999 null instead of failing', () => {
    const s = stream({ updatedField: 'modified' })
    expect(normalizeRest({ id: 'a', modified: 1e20 }, s, 'x').remoteUpdatedAt).toBeNull()
    expect(normalizeRest({ id: 'b', modified: -1e15 }, s, 'x').remoteUpdatedAt).toBeNull()
  })

  it('names the id field when an item has none', () => {
    expect(() => normalizeRest({ name: 'no id' }, stream({ idField: 'uuid' }), 'GET /x')).toThrow(/item without an id at "uuid" \(item keys: name\)/)
  })
})

describe('a full scan with bad items', () => {
  const pagesOf = async function* (...pages: unknown[][]) {
    for (const [i, items] of pages.entries()) yield { items, last: i === pages.length - 1 }
  }
  const s = stream({ idField: 'key' })

  it('quarantines items that cannot be normalized or whose ids collide, and yields the rest with the scan cursor on the last page', async () => {
    const out: Page[] = []
    const items = [{ key: 'a' }, { name: 'no key' }, { key: 1, v: 'one' }, { key: '1', v: 'one again' }, { key: 'a' }]
    for await (const p of scanPages(
      pagesOf(items, [{ key: 'b' }]),
      (i) => normalizeRest(i, s, 'GET /x'),
      (i) => (isObject(i) ? str(i.key) : null),
    ))
      out.push(p)
    // the same item listed twice is no collision (the mirror keeps one row per id)
    expect(out.map((p) => p.records.map((r) => r.remoteId))).toEqual([['a', 'a'], ['b']])
    expect(out[0]?.quarantined).toEqual([
      { remoteId: null, reason: 'GET /x: item without an id at "key" (item keys: name)', excerpt: '{"name":"no key"}' },
      { remoteId: '1', reason: ID_COLLISION, excerpt: '{"key":1,"v":"one"}\n{"key":"1","v":"one again"}' },
    ])
    expect(out[1]).toEqual({ records: [expect.objectContaining({ remoteId: 'b' })], cursor: { complete: true, records: 3, maxUpdatedAt: null } })
  })

  it('names the id of an item whose normalization failed where it can', () => {
    const { good, quarantined } = readItems(
      [{ id: 'x1' }, { id: 'x2' }],
      (i) => {
        if ((i as { id: string }).id === 'x2') throw new RangeError('Maximum call stack size exceeded')
        return i as { id: string }
      },
      (v) => v.id,
    )
    expect(good).toEqual([{ id: 'x1' }])
    expect(quarantined).toEqual([{ remoteId: 'x2', reason: 'could not be read: Maximum call stack size exceeded', excerpt: '{"id":"x2"}' }])
  })
})
