import { describe, expect, it } from 'vitest'
import { createAvepointFieldCatalog } from '../../src/connectors/avepoint/avepoint.fields.js'
import { normalizeAvepoint } from '../../src/connectors/avepoint/avepoint.normalize.js'
import { createElasticioFieldCatalog } from '../../src/connectors/elasticio/elasticio.fields.js'
import { normalizeElasticio } from '../../src/connectors/elasticio/elasticio.normalize.js'
import { createRestFieldCatalog } from '../../src/connectors/rest/rest.fields.js'
import { normalizeRest } from '../../src/connectors/rest/rest.normalize.js'
import { FieldNotWritableError, type FieldCatalog } from '../../src/engine/catalog.js'
import { toMirrorRow } from '../../src/engine/record.js'
import type { RemoteRecord } from '../../src/engine/types.js'

const snapshot = (r: RemoteRecord) => toMirrorRow(r, { nulBytesStripped: 0 }).snapshot
const signal = AbortSignal.timeout(10_000)

async function refusesWrites(c: FieldCatalog, stream: string, name: string): Promise<void> {
  const err = await c.toPayload(stream, { [name]: 'x' }, signal).catch((e: unknown) => e)
  expect(err).toBeInstanceOf(FieldNotWritableError)
  expect(err).toMatchObject({ code: 'field_not_writable', field: name })
  expect(c.field(stream, name)?.writable).toBe(false)
}

describe('AvePoint field catalog (read-only)', () => {
  const c = createAvepointFieldCatalog()

  it('reads the title, status and timestamps from columns and other properties from fields', () => {
    const customer = snapshot(
      normalizeAvepoint(
        {
          id: 'c1',
          customerName: 'Contoso',
          customerType: 'Partner',
          status: 'Active',
          createdTime: '2026-01-01T00:00:00Z',
          lastModifiedTime: '2026-02-01T00:00:00Z',
        },
        'x',
      ),
    )
    expect(c.read(customer, 'customerName')).toBe('Contoso')
    expect(c.read(customer, 'customerType')).toBe('Partner')
    expect(c.read(customer, 'status')).toBe('Active')
    expect(c.read(customer, 'createdTime')).toBe('2026-01-01T00:00:00.000Z')
    expect(c.read(customer, 'lastModifiedTime')).toBe('2026-02-01T00:00:00.000Z')

    const user = snapshot(normalizeAvepoint({ id: 'u1', userPrincipalName: 'ada@contoso.com', displayName: 'Ada', accountEnabled: false }, 'x'))
    expect(c.read(user, 'displayName')).toBe('Ada')
    expect(c.read(user, 'userPrincipalName')).toBe('ada@contoso.com')
    expect(c.read(user, 'accountEnabled')).toBe(false)
    expect(c.field('users', 'accountEnabled')).toMatchObject({ kind: 'boolean' })
  })

  it('normalizes by kind and refuses every write', async () => {
    expect(c.normalize('customers', 'lastModifiedTime', '2026-02-01T01:00:00+01:00')).toBe('2026-02-01T00:00:00.000Z')
    expect(c.normalize('users', 'accountEnabled', 'true')).toBe(true)
    await refusesWrites(c, 'customers', 'customerName')
    expect(await c.toPayload('customers', {}, signal)).toEqual({})
  })
})

describe('elastic.io field catalog (read-only)', () => {
  const c = createElasticioFieldCatalog()

  it('reads attributes from columns and fields, relationships included', () => {
    const flow = snapshot(
      normalizeElasticio(
        {
          id: 'f1',
          type: 'flow',
          attributes: { name: 'Sync', status: 'active', type: 'ordinary', created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-02T00:00:00Z' },
          relationships: { user: { data: { type: 'user', id: 'u1' } } },
        },
        'x',
      ),
    )
    expect(c.read(flow, 'name')).toBe('Sync')
    expect(c.read(flow, 'status')).toBe('active')
    expect(c.read(flow, 'type')).toBe('ordinary')
    expect(c.read(flow, 'updated_at')).toBe('2026-01-02T00:00:00.000Z')
    expect(c.read(flow, 'relationships')).toEqual({ user: { type: 'user', id: 'u1' } })
  })

  it('refuses every write', async () => {
    await refusesWrites(c, 'flows', 'status')
  })
})

describe('REST field catalog (read-only)', () => {
  const stream = { path: '/items', idField: 'key', updatedField: 'modified', pagination: { style: 'none' as const } }
  const c = createRestFieldCatalog({ streams: { items: stream } })

  it('reads title, status and the updated field from columns, other properties (dotted too) from fields', () => {
    const s = snapshot(normalizeRest({ key: 'k1', name: 'Widget', status: 'open', modified: 1767225600, owner: { email: 'a@b.c' } }, stream, 'x'))
    expect(c.read(s, 'name')).toBe('Widget')
    expect(c.read(s, 'status')).toBe('open')
    expect(c.read(s, 'modified')).toBe('2026-01-01T00:00:00.000Z')
    expect(c.read(s, 'owner')).toEqual({ email: 'a@b.c' })
    expect(c.read(s, 'owner.email')).toBe('a@b.c')
    expect(c.field('items', 'modified')).toMatchObject({ kind: 'datetime', writable: false })
  })

  it('refuses every write', async () => {
    await refusesWrites(c, 'items', 'name')
  })
})
