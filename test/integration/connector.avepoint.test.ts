import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { avepointConnectionSchema, type AvepointConnection } from '../../src/connectors/avepoint/index.js'
import { createPgMirror } from '../../src/db/mirror.store.js'
import type { StreamRef } from '../../src/engine/types.js'
import { startAvepoint, type StartedAvepoint } from '../../src/sim/avepoint/index.js'
import { runOnce, type TestConnection, testConnection } from '../support/connector.js'
import { createTestDb } from '../support/db.js'

const db = await createTestDb()
const { sql } = db
const mirror = createPgMirror(sql)
const GENERAL = '/partner/external/v3/general'
const ROUTES = {
  customers: `GET ${GENERAL}/customers`,
  tenants: `GET ${GENERAL}/tenants`,
  services: `GET ${GENERAL}/services`,
  users: 'GET /partner/external/v3/um/users',
  token: 'POST /connect/token',
}
const STREAMS = { customers: { resource: 'customers' }, tenants: { resource: 'tenants' }, services: { resource: 'services' }, users: { resource: 'users' } }

let sim: StartedAvepoint
let n = 0

beforeAll(async () => {
  sim = await startAvepoint()
  // 150 customers and tenants, 300 users (3 pages), 250 services (3 nextLink pages)
  await control('POST', '/_sim/seed', { customers: 150, tenantsPerCustomer: 1, usersPerTenant: 2, services: 250 })
})
afterAll(async () => sim.close())
beforeEach(async () => {
  await control('DELETE', '/_sim/faults')
  await control('POST', '/_sim/stats/reset')
})

async function control(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${sim.baseUrl}${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  })
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  return res.status === 204 ? null : res.json()
}
const simStats = async () => (await control('GET', '/_sim/stats')) as { byRoute: Record<string, Record<string, number>> }
const count = (stats: { byRoute: Record<string, Record<string, number>> }, route: string, status = '200') => stats.byRoute[route]?.[status] ?? 0

type Setup = TestConnection

/** A fresh connection name per setup, so each test owns its mirror rows. */
function setup(scope = sim.credentials.scope ?? ''): Setup {
  const connection = `ave-${++n}`
  const config: AvepointConnection = avepointConnectionSchema.parse({
    kind: 'avepoint',
    baseUrl: sim.baseUrl,
    auth: {
      mode: 'oauth2-client-credentials',
      tokenUrl: sim.credentials.tokenUrl,
      clientId: sim.credentials.clientId,
      clientSecret: sim.credentials.clientSecret,
      ...(scope ? { scope } : {}),
    },
    streams: STREAMS,
  })
  return testConnection(connection, config)
}

const sync = (s: Setup, stream: string) => runOnce(mirror, s, stream)

const rows = (ref: StreamRef) =>
  sql<
    {
      remote_id: string
      title: string | null
      status: string | null
      remote_updated_at: string | null
      deleted_at: string | null
      fields: Record<string, unknown>
      x: string
    }[]
  >`
    select remote_id, title, status, remote_updated_at, deleted_at, fields, xmin::text as x from elsync.records
    where connection = ${ref.connection} and stream = ${ref.stream} order by remote_id`
const cursorOf = async (ref: StreamRef) =>
  (await sql<{ cursor: unknown }[]>`select cursor from elsync.stream_state where connection = ${ref.connection} and stream = ${ref.stream}`)[0]?.cursor ?? null
const dump = async (resource: string) => ((await control('GET', `/_sim/dump/${resource}`)) as { items: Record<string, unknown>[] }).items

describe('avepoint connector', () => {
  it('mirrors every item of customers, tenants, services and users with titles, statuses and modified times', async () => {
    const s = setup()
    for (const stream of Object.keys(STREAMS)) {
      const result = await sync(s, stream)
      expect(result, stream).toMatchObject({ status: 'succeeded', mode: 'full' })
      const items = await dump(stream)
      const mirrored = await rows({ connection: s.connection, stream })
      expect(mirrored.map((r) => r.remote_id).sort(), stream).toEqual(items.map((i) => String(i.id)).sort())
    }
    const customer = (await dump('customers'))[0] as { id: string; customerName: string; status: string; lastModifiedTime: string; customerType: string }
    const [c] = (await rows({ connection: s.connection, stream: 'customers' })).filter((r) => r.remote_id === customer.id)
    expect(c).toMatchObject({ title: customer.customerName, status: customer.status, fields: { customerType: customer.customerType } })
    expect(new Date(String(c?.remote_updated_at)).toISOString()).toBe(new Date(customer.lastModifiedTime).toISOString())
    const users = await dump('users')
    const disabled = users.find((u) => u.accountEnabled === false) as { id: string; userPrincipalName: string }
    const [u] = (await rows({ connection: s.connection, stream: 'users' })).filter((r) => r.remote_id === disabled.id)
    expect(u).toMatchObject({ title: expect.any(String), status: 'disabled', fields: { userPrincipalName: disabled.userPrincipalName } })
  })

  it('writes zero rows on a second sync and makes exactly ceil(N/100) list requests per stream, reusing the token', async () => {
    const s = setup()
    for (const stream of Object.keys(STREAMS)) await sync(s, stream)
    const first = await simStats()
    expect(count(first, ROUTES.token)).toBe(1)
    const before = new Map<string, string[]>()
    for (const stream of Object.keys(STREAMS))
      before.set(
        stream,
        (await rows({ connection: s.connection, stream })).map((r) => r.x),
      )
    const [changesBefore] = await sql`select count(*)::int as n from elsync.record_changes where connection = ${s.connection}`

    await control('POST', '/_sim/stats/reset')
    for (const stream of Object.keys(STREAMS)) {
      const result = await sync(s, stream)
      expect(result, stream).toMatchObject({ status: 'succeeded', changed: 0, deleted: 0 })
      expect(
        (await rows({ connection: s.connection, stream })).map((r) => r.x),
        stream,
      ).toEqual(before.get(stream))
    }
    const second = await simStats()
    // customers 150, tenants 150, users 300 by pageIndex; services 250 by nextLink (top=100)
    expect([count(second, ROUTES.customers), count(second, ROUTES.tenants), count(second, ROUTES.users), count(second, ROUTES.services)]).toEqual([2, 2, 3, 3])
    expect(count(second, ROUTES.token)).toBe(0)
    const [changesAfter] = await sql`select count(*)::int as n from elsync.record_changes where connection = ${s.connection}`
    expect(changesAfter?.n).toBe(changesBefore?.n)
  })

  it('follows the full-URL nextLink of services until it comes back empty', async () => {
    const s = setup()
    const result = await sync(s, 'services')
    expect(result).toMatchObject({ status: 'succeeded', seen: 250, pages: 3, requests: 4 }) // 3 pages + the token request (first use of this client)
    expect(count(await simStats(), ROUTES.services)).toBe(3)
    expect(await rows({ connection: s.connection, stream: 'services' })).toHaveLength(250)
  })

  it('requests its token with the configured scope, and a stream outside that scope fails with the request-id logged', async () => {
    const s = setup('elements.customers.read.all')
    expect(await sync(s, 'customers')).toMatchObject({ status: 'succeeded', seen: 150 })
    const denied = await sync(s, 'tenants')
    expect(denied.status).toBe('failed')
    expect(denied.error?.code).toBe('forbidden')
    const requestId = /request-id ([0-9a-f-]{36})/.exec(denied.error?.message ?? '')?.[1]
    expect(requestId).toBeDefined()
    const logged = s.logs.lines.map((l) => JSON.parse(l) as { msg: string; requestId?: string }).find((l) => l.msg === 'stream read failed')
    expect(logged?.requestId).toBe(requestId)
    // without a scope the identity host refuses the token: check() names the problem
    await expect(setup('').connector.check(AbortSignal.timeout(5_000))).rejects.toMatchObject({
      code: 'auth_failed',
      message: expect.stringContaining('invalid_scope'),
    })
  })

  it('retries a 503 and completes the scan', async () => {
    const s = setup()
    await control('POST', '/_sim/faults', { kind: 'status', status: 503, count: 2, route: `${GENERAL}/customers` })
    const result = await sync(s, 'customers')
    expect(result).toMatchObject({ status: 'succeeded', seen: 150 })
    const stats = await simStats()
    expect([count(stats, ROUTES.customers, '503'), count(stats, ROUTES.customers)]).toEqual([2, 2])
  })

  it('recovers by retry from a single HTML page answered with status 200', async () => {
    const s = setup()
    await control('POST', '/_sim/faults', { kind: 'html', count: 1, route: `${GENERAL}/tenants` })
    expect(await sync(s, 'tenants')).toMatchObject({ status: 'succeeded', seen: 150 })
    expect(count(await simStats(), ROUTES.tenants)).toBe(3) // the HTML page, then pages 1 and 2
  })

  it('fails cleanly when HTML pages persist mid-scan: cursor unchanged, nothing deleted, the edit picked up later', async () => {
    const s = setup()
    const ref = { connection: s.connection, stream: 'customers' }
    expect(await sync(s, 'customers')).toMatchObject({ status: 'succeeded' })
    const cursorBefore = await cursorOf(ref)
    expect(cursorBefore).toMatchObject({ complete: true, records: 150 })
    const onSecondPage = (await dump('customers'))[120] as { id: string }
    await control('POST', `/_sim/edit/customers/${onSecondPage.id}`, { fields: { customerName: 'Renamed By A Human' } })

    // page 1 is read and saved; every attempt at page 2 gets the maintenance page (armed before the
    // run: page 2 is read while page 1 is saved)
    sim.server.faults.arm({ kind: 'html', count: 3, route: `${GENERAL}/customers`, skip: 1 })
    const failed = await sync(s, 'customers')
    expect(failed).toMatchObject({ status: 'failed', pages: 1, deleted: 0, error: { code: 'bad_response', message: expect.stringContaining('HTML page') } })
    expect(await cursorOf(ref)).toEqual(cursorBefore)
    const after = await rows(ref)
    expect(after).toHaveLength(150)
    expect(after.filter((r) => r.deleted_at !== null)).toHaveLength(0)
    expect(after.find((r) => r.remote_id === onSecondPage.id)?.title).not.toBe('Renamed By A Human')

    expect(await sync(s, 'customers')).toMatchObject({ status: 'succeeded', changed: 1 })
    expect((await rows(ref)).find((r) => r.remote_id === onSecondPage.id)?.title).toBe('Renamed By A Human')
    expect(await cursorOf(ref)).not.toEqual(cursorBefore)
  })

  it('checks the connection with a one-item page of its first stream', async () => {
    const s = setup()
    await s.connector.check(AbortSignal.timeout(5_000))
    expect(count(await simStats(), ROUTES.customers)).toBe(1)
  })
})
