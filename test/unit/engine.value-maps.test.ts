import { describe, expect, it } from 'vitest'
import { createLookupReader } from '../../src/connectors/elasticio/elasticio.lookups.js'
import type { LookupReader } from '../../src/engine/ports.js'
import { resolveValueMaps } from '../../src/engine/value-maps.js'
import type { MappingSpec } from '../../src/engine/write.types.js'

const signal = new AbortController().signal
const item = (id: string, title: string, data: unknown) => ({ id, type: 'lookup', attributes: { title, data } })

/** The lookups list as two pages. */
function reader(items: unknown[]): LookupReader & { reads: number } {
  const r = createLookupReader('eio', async function* () {
    out.reads++
    yield { items: items.slice(0, 1), last: false }
    yield { items: items.slice(1), last: true }
  })
  const out = { read: r.read, reads: 0 }
  return out
}

describe('elastic.io lookup tables as value maps', () => {
  const tables = [
    item('5f01', 'Status', { Open: 'To Do' }),
    item('5f02', 'Twice', {}),
    item('5f03', 'Twice', {}),
    item('5f04', 'Odd', { P1: 1, ok: true, bad: null }),
  ]

  it('finds a table by id or by title, across pages, and reads numbers and booleans as text', async () => {
    const r = reader(tables)
    expect(await r.read('5f01', signal)).toEqual({ Open: 'To Do' })
    expect(await r.read('Status', signal)).toEqual({ Open: 'To Do' })
    expect(await r.read('5f03', signal)).toEqual({})
  })

  it('names a missing table, titles that repeat, and a value that is not text', async () => {
    const r = reader(tables)
    await expect(r.read('Priority', signal)).rejects.toMatchObject({
      code: 'lookup_not_found',
      message: 'connection eio has no lookup table with id or title "Priority"',
    })
    await expect(r.read('Twice', signal)).rejects.toMatchObject({
      code: 'lookup_ambiguous',
      message: expect.stringMatching(/2 lookup tables titled "Twice": name the table by its id/),
    })
    await expect(r.read('Odd', signal)).rejects.toMatchObject({ code: 'bad_response', message: expect.stringMatching(/maps "bad" to null/) })
  })

  const mapping = (fields: MappingSpec['fields']): MappingSpec => ({
    id: 'm',
    left: { connection: 'a', stream: 'x' },
    right: { connection: 'b', stream: 'y' },
    create: 'none',
    conflict: 'newest',
    delete: 'ignore',
    fields,
  })
  const from = (lookup: string) => ({ connection: 'eio', lookup })

  it('fills each field’s values from its table, reading a table once however many fields name it', async () => {
    const r = reader([item('1', 'S', { Open: 'To Do', Closed: 'Done' })])
    const resolved = await resolveValueMaps(
      mapping([
        { left: 'Title', right: 'title', direction: 'both' },
        { left: 'Status', right: 'status', direction: 'both', valuesFrom: from('S') },
        { left: 'State', right: 'state', direction: 'left-to-right', valuesFrom: from('S') },
      ]),
      (c) => (c === 'eio' ? r : undefined),
      signal,
    )
    expect(resolved.fields.map((f) => f.values)).toEqual([undefined, { Open: 'To Do', Closed: 'Done' }, { Open: 'To Do', Closed: 'Done' }])
    expect(r.reads).toBe(1)
  })

  it('refuses a table that maps two values to one for a two-way field, and names the mapping and field of a missing one', async () => {
    const r = reader([item('1', 'Many', { P1: 'urgent', P2: 'urgent' })])
    const two = mapping([{ left: 'Priority', right: 'priority', direction: 'both', valuesFrom: from('Many') }])
    await expect(resolveValueMaps(two, () => r, signal)).rejects.toMatchObject({
      code: 'value_map_invalid',
      message: expect.stringMatching(/^mapping m fields\[0\]\.valuesFrom: lookup table "Many" of connection eio: "P1" and "P2" both map to "urgent"/),
    })
    const oneWay = mapping([{ left: 'Priority', right: 'priority', direction: 'left-to-right', valuesFrom: from('Many') }])
    expect((await resolveValueMaps(oneWay, () => r, signal)).fields[0]?.values).toEqual({ P1: 'urgent', P2: 'urgent' })
    await expect(resolveValueMaps(mapping([{ left: 'S', right: 's', direction: 'both', valuesFrom: from('Gone') }]), () => r, signal)).rejects.toMatchObject({
      code: 'lookup_not_found',
      message: 'mapping m fields[0].valuesFrom: lookup table "Gone" of connection eio: connection eio has no lookup table with id or title "Gone"',
    })
    await expect(resolveValueMaps(oneWay, () => undefined, signal)).rejects.toMatchObject({ code: 'lookup_unsupported' })
  })
})
