import { describe, expect, it } from 'vitest'
import { createElementumFieldCatalog } from '../../src/connectors/elementum/elementum.fields.js'
import { toRemoteComment, toRemoteRecord } from '../../src/connectors/elementum/elementum.normalize.js'
import { parseComment } from '../../src/connectors/elementum/elementum.schemas.js'
import { createMarkerFormat, DEFAULT_MARKER, formatAttribution } from '../../src/engine/attribution.js'
import { FieldNotWritableError, UnmappableValueError } from '../../src/engine/catalog.js'
import { toMirrorRow, type Snapshot } from '../../src/engine/record.js'
import type { SimClock } from '../../src/sim/common/clock.js'
import { createElementumStore } from '../../src/sim/elementum/store.js'

const T = Date.parse('2026-03-01T12:00:00Z')
const clock: SimClock = { now: () => T, advance: () => {}, nowIso: () => new Date(T).toISOString() }
// The simulator's store, in memory: what Elementum keeps of a write, without HTTP.
const store = createElementumStore(clock)
const ns = store.ensureNamespace('tasks', 'it-requests')
const signal = AbortSignal.timeout(10_000)
const base = { recordType: 'tasks', alias: 'it-requests' } as const
const catalog = () =>
  createElementumFieldCatalog({ streams: { it: { ...base, cursorField: 'Updated on' }, legacy: { ...base, alias: 'legacy', cursorField: 'Modified' } } })

/** POST the payload to the in-memory Elementum and mirror what it stored. */
function storeAndMirror(payload: Record<string, unknown>): Snapshot {
  const record = store.create(ns, payload as Record<string, string>)
  return toMirrorRow(toRemoteRecord({ ...record.data, id: record.data.id as string }, 'Updated on'), { nulBytesStripped: 0 }).snapshot
}

describe('Elementum field catalog: read', () => {
  it('reads display names from the columns the normalizer filled, every other one from fields', () => {
    const c = catalog()
    const s = storeAndMirror({
      Title: 'Laptop',
      Status: 'In Progress',
      Priority: 'P2',
      'Due Date': '2026-03-15',
      Description: 'Needs a charger',
      Assignee: 'ada@example.com',
      Site: 'Berlin',
    })
    expect(c.read(s, 'id')).toMatch(/^TSK-\d+$/)
    expect(c.read(s, 'Title')).toBe('Laptop')
    expect(c.read(s, 'Status')).toBe('In Progress')
    expect(c.read(s, 'Priority')).toBe('P2')
    expect(c.read(s, 'Due Date')).toBe('2026-03-15T00:00:00.000Z')
    expect(c.read(s, 'Description')).toBe('Needs a charger')
    expect(c.read(s, 'Assignee')).toEqual([{ id: null, name: 'ada@example.com' }])
    expect(c.read(s, 'Site')).toBe('Berlin')
    expect(c.read(s, 'Created on')).toBe('2026-03-01T12:00:00.000Z')
    // the cursor field is a column; another stream's cursor field name stays a field of its own
    expect(c.read(s, 'Updated on')).toBe('2026-03-01T12:00:00.000Z')
    expect(c.read({ ...s, fields: { 'Updated on': '2026-01-01T00:00:00.000Z' } }, 'Updated on')).toBe('2026-01-01T00:00:00.000Z')
    expect(c.read(s, 'Modified')).toBe('2026-03-01T12:00:00.000Z')
    expect(c.read(s, 'Cost Center')).toBeNull()
  })

  it('reads the description without the create marker a push wrote; the document keeps it', () => {
    const raw = DEFAULT_MARKER.append('Needs a charger', { mapping: 'it', link: '9' })
    const record = toRemoteRecord({ id: 'TSK-9', Description: raw }, 'Updated on')
    expect(record.description).toBe('Needs a charger')
    expect((record.document as { Description: string }).Description).toBe(raw)
    const acme = createMarkerFormat('acme')
    expect(toRemoteRecord({ id: 'TSK-9', Description: 'x\n\nacme:it:9' }, 'Updated on', [acme]).description).toBe('x')
  })
})

describe('Elementum field catalog: normalize', () => {
  it('stores strings: dates as YYYY-MM-DDTHH:MM:SS.SSSZ, numbers as text, empty text as absent', () => {
    const c = catalog()
    expect(c.normalize('it', 'Due Date', '2026-03-15')).toBe('2026-03-15T00:00:00.000Z')
    expect(c.normalize('it', 'Due Date', '2026-03-15T10:30:00+02:00')).toBe('2026-03-15T08:30:00.000Z')
    expect(c.normalize('it', 'Due Date', null)).toBeNull()
    expect(c.normalize('it', 'Cost', 12.5)).toBe('12.5')
    expect(c.normalize('it', 'Title', ' Laptop ')).toBe(' Laptop ')
    expect(c.normalize('it', 'Description', '')).toBeNull()
    expect(c.normalize('it', 'Assignee', [{ id: 'u1', name: 'Ada' }])).toBe('Ada')
    expect(c.normalize('it', 'Assignee', [])).toBeNull()
  })

  it('compares our own write, read back, equal to what was written (the echo property)', async () => {
    const c = catalog()
    const written = { Title: 'Laptop', Description: '', 'Due Date': '2026-03-15T09:00:00.5+01:00', Assignee: [{ id: 'u1', name: 'Ada' }], Site: 42 }
    const s = storeAndMirror(await c.toPayload('it', written, signal))
    for (const [name, value] of Object.entries(written)) {
      expect(c.normalize('it', name, c.read(s, name)), name).toEqual(c.normalize('it', name, value))
    }
  })
})

describe('Elementum field catalog: toPayload', () => {
  it('gives a field map keyed by display names with string values; null removes a field', async () => {
    const c = catalog()
    expect(await c.toPayload('it', { Title: 'Laptop', 'Due Date': '2026-03-15', Cost: 12, Assignee: ['Ada'], Description: null }, signal)).toEqual({
      Title: 'Laptop',
      'Due Date': '2026-03-15T00:00:00.000Z',
      Cost: '12',
      Assignee: 'Ada',
      Description: null,
    })
  })

  it('refuses system fields, several assignees, a malformed date and an empty title', async () => {
    const c = catalog()
    const err = (stream: string, values: Record<string, unknown>) => c.toPayload(stream, values, signal).catch((e: unknown) => e)
    for (const name of ['id', 'Created on', 'Updated on']) expect(await err('it', { [name]: 'x' })).toBeInstanceOf(FieldNotWritableError)
    expect(await err('legacy', { Modified: '2026-03-15' })).toMatchObject({ code: 'field_not_writable', field: 'Modified' })
    expect(await err('it', { Assignee: ['Ada', 'Grace'] })).toMatchObject({ code: 'unmappable_value', field: 'Assignee' })
    expect(await err('it', { 'Due Date': 'soon' })).toBeInstanceOf(UnmappableValueError)
    expect(await err('it', { Title: ' ' })).toMatchObject({ code: 'unmappable_value', field: 'Title', value: ' ' })
    expect(c.field('it', 'Site')).toEqual({ name: 'Site', kind: 'text', writable: true })
  })
})

describe('Elementum comments', () => {
  it('marks comments carrying the footer formatted by the attribution module as synced', () => {
    const by = { firstName: 'Grace', lastName: 'Hopper' }
    const synced = toRemoteComment('TSK-1', parseComment({ id: 'c1', contents: `${formatAttribution('Done', 'Jane Smith', 'Elean')}\r\n`, createdBy: by }, 'c'))
    const quoted = toRemoteComment('TSK-1', parseComment({ id: 'c2', contents: 'She wrote:\n\n— Jane Smith via Elean\n\nI agree.', createdBy: by }, 'c'))
    expect([synced.origin, quoted.origin]).toEqual(['synced', 'native'])
  })
})
