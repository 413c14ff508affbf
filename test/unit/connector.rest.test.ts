import { describe, expect, it } from 'vitest'
import { restStreamSchema } from '../../src/connectors/rest/index.js'
import { itemsOf, normalizeRest } from '../../src/connectors/rest/rest.normalize.js'
import { getPath, nextFromLinkHeader } from '../../src/connectors/shared/paging.js'

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

  it('names the id field when an item has none', () => {
    expect(() => normalizeRest({ name: 'no id' }, stream({ idField: 'uuid' }), 'GET /x')).toThrow(/item without an id at "uuid" \(item keys: name\)/)
  })
})
