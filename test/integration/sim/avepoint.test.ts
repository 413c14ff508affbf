import { readFile } from 'node:fs/promises'
import { parse } from 'yaml'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startAvepoint, type StartedAvepoint } from '../../../src/sim/avepoint/index.js'

const GENERAL = '/partner/external/v3/general'
const UM = '/partner/external/v3/um'
const ALL = 'elements.customers.read.all elements.tenants.read.all elements.services.read.all elements.um.user.readwrite.all'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

let sim: StartedAvepoint

beforeEach(async () => {
  sim = await startAvepoint({ clientId: 'app-1', clientSecret: 's3cret', seed: 7 })
  sim.store.seed({ customers: 120, tenantsPerCustomer: 2, usersPerTenant: 3, services: 250 })
})
afterEach(() => sim.close())

function tokenRequest(fields: Record<string, string>): Promise<Response> {
  return fetch(sim.credentials.tokenUrl as string, { method: 'POST', body: new URLSearchParams(fields) })
}

async function token(scope = ALL): Promise<string> {
  const res = await tokenRequest({ grant_type: 'client_credentials', client_id: 'app-1', client_secret: 's3cret', scope })
  expect(res.status).toBe(200)
  return ((await res.json()) as { access_token: string }).access_token
}

async function get(path: string, bearer?: string): Promise<Response> {
  return fetch(path.startsWith('http') ? path : `${sim.baseUrl}${path}`, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} })
}

async function control(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${sim.server.url}/_sim${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })
}

describe('avepoint identity host', () => {
  it('issues a one-hour bearer token for valid client credentials and a known scope', async () => {
    const res = await tokenRequest({ grant_type: 'client_credentials', client_id: 'app-1', client_secret: 's3cret', scope: ALL })
    expect(res.status).toBe(200)
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: ALL })
    expect(typeof body.access_token).toBe('string')
    expect(sim.credentials).toMatchObject({ clientId: 'app-1', clientSecret: 's3cret' })
  })

  it('prints the read-only scope that the example connections.yaml asks for', async () => {
    const example = parse(await readFile('mappings/connections.yaml', 'utf8')) as { connections: { avepoint: { auth: { scope: string } } } }
    expect(sim.credentials.scope).toBe(example.connections.avepoint.auth.scope)
  })

  it.each([
    [{ grant_type: 'client_credentials', client_id: 'app-1', client_secret: 'wrong', scope: ALL }, 'invalid_client'],
    [{ grant_type: 'client_credentials', client_id: 'app-1', client_secret: 's3cret', scope: 'elements.everything' }, 'invalid_scope'],
    [{ grant_type: 'client_credentials', client_id: 'app-1', client_secret: 's3cret' }, 'invalid_scope'],
    [{ grant_type: 'password', client_id: 'app-1', client_secret: 's3cret', scope: ALL }, 'unsupported_grant_type'],
  ])('answers 400 with an OAuth error for %o', async (form, error) => {
    const res = await tokenRequest(form)
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error })
  })

  it('rejects a token once the simulated clock passes expires_in', async () => {
    const t = await token()
    expect((await get(`${GENERAL}/customers`, t)).status).toBe(200)
    await control('POST', '/clock', { advanceMs: 3_601_000 })
    const res = await get(`${GENERAL}/customers`, t)
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ error: { code: 'Unauthorized', message: 'Access token has expired' } })
  })
})

describe('avepoint graph auth and errors', () => {
  it('answers 401 with a request-id and the graph error shape when no token is sent', async () => {
    const res = await get(`${GENERAL}/customers`)
    expect(res.status).toBe(401)
    expect(res.headers.get('request-id')).toMatch(UUID)
    expect(await res.json()).toEqual({ error: { code: 'Unauthorized', message: 'Missing bearer token' } })
  })

  it('answers 403 when the token scope lacks the resource permission', async () => {
    const t = await token('elements.customers.read.all')
    expect((await get(`${GENERAL}/customers`, t)).status).toBe(200)
    const res = await get(`${GENERAL}/tenants`, t)
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('Forbidden')
  })

  it('answers 404 for an unknown customer and tags it with a request-id', async () => {
    const res = await get(`${GENERAL}/customers/00000000-0000-4000-a000-000000000000`, await token())
    expect(res.status).toBe(404)
    expect(res.headers.get('request-id')).toMatch(UUID)
  })

  it('answers 429 with Retry-After, then 503, then recovers, when those faults are armed', async () => {
    const t = await token()
    await control('POST', '/faults', { kind: 'rate-limit', count: 1, retryAfterSeconds: 2 })
    await control('POST', '/faults', { kind: 'status', status: 503, count: 1 })
    const limited = await get(`${GENERAL}/customers`, t)
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('2')
    expect(limited.headers.get('request-id')).toMatch(UUID)
    expect(await limited.json()).toMatchObject({ error: { code: 'TooManyRequests' } })
    const unavailable = await get(`${GENERAL}/customers`, t)
    expect(unavailable.status).toBe(503)
    expect(unavailable.headers.get('request-id')).toMatch(UUID)
    expect(await unavailable.json()).toMatchObject({ error: { code: 'ServiceUnavailable' } })
    expect((await get(`${GENERAL}/customers`, t)).status).toBe(200)
  })
})

describe('avepoint paging', () => {
  it('pages customers with pageIndex/pageSize and reports totalCount', async () => {
    const t = await token()
    const first = (await (await get(`${GENERAL}/customers`, t)).json()) as { data: { id: string }[]; metadata: unknown }
    expect(first.data).toHaveLength(50)
    expect(first.metadata).toEqual({ pageIndex: 1, pageSize: 50, totalCount: 120 })
    const last = (await (await get(`${GENERAL}/customers?pageIndex=2&pageSize=100`, t)).json()) as { data: { id: string }[] }
    expect(last.data).toHaveLength(20)
    expect(last.data[0]?.id).toBe(sim.store.data.customers[100]?.id)
    expect(first.data[0]).toMatchObject({ customerName: expect.any(String), customerType: expect.any(String), status: expect.any(String) })
  })

  it('refuses a pageSize above 100 with 400', async () => {
    const res = await get(`${GENERAL}/customers?pageSize=101`, await token())
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('pageSize')
  })

  it('lists the tenants of one customer and 404s for an unknown customer', async () => {
    const t = await token()
    const customer = sim.store.data.customers[3]!
    const body = (await (await get(`${GENERAL}/customers/${customer.id}/tenants`, t)).json()) as {
      data: { customerId: string }[]
      metadata: { totalCount: number }
    }
    expect(body.metadata.totalCount).toBe(2)
    expect(body.data.every((x) => x.customerId === customer.id)).toBe(true)
    expect((await get(`${GENERAL}/customers/nope/tenants`, t)).status).toBe(404)
    const all = (await (await get(`${GENERAL}/tenants?pageSize=10`, t)).json()) as { metadata: { totalCount: number } }
    expect(all.metadata.totalCount).toBe(240)
  })

  it('follows services nextLink full URLs until it is an empty string', async () => {
    const t = await token()
    let url = `${sim.baseUrl}${GENERAL}/services?top=100`
    const seen: string[] = []
    const links: string[] = []
    for (let guard = 0; guard < 10 && url !== ''; guard++) {
      const page = (await (await get(url, t)).json()) as { value: { id: string }[]; nextLink: string }
      seen.push(...page.value.map((s) => s.id))
      links.push(page.nextLink)
      url = page.nextLink
    }
    expect(links).toEqual([`${sim.baseUrl}${GENERAL}/services?top=100&skip=100`, `${sim.baseUrl}${GENERAL}/services?top=100&skip=200`, ''])
    expect(new Set(seen).size).toBe(250)
    expect((await get(`${GENERAL}/services?top=1001`, t)).status).toBe(400)
  })

  it('answers POST customers/batch with only the requested ids in the paged shape', async () => {
    const t = await token()
    const ids = sim.store.data.customers.slice(5, 8).map((c) => c.id)
    const res = await fetch(`${sim.baseUrl}${GENERAL}/customers/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
      body: JSON.stringify({ customerIds: ids }),
    })
    const body = (await res.json()) as { data: { id: string }[]; metadata: { totalCount: number } }
    expect(body.data.map((c) => c.id)).toEqual(ids)
    expect(body.metadata.totalCount).toBe(3)
  })

  it('inserts an item at the head of the next list when the drift fault is armed', async () => {
    const t = await token()
    const before = sim.store.data.customers[0]!.id
    await control('POST', '/faults', { kind: 'drift', insert: 1, count: 1 })
    const page = (await (await get(`${GENERAL}/customers?pageSize=2`, t)).json()) as { data: { id: string }[]; metadata: { totalCount: number } }
    expect(page.metadata.totalCount).toBe(121)
    expect(page.data[1]?.id).toBe(before)
  })
})

describe('avepoint users', () => {
  it('lists users of a tenant and all users, and updates account information', async () => {
    const t = await token()
    const tenant = sim.store.data.tenants[4]!
    const base = `${UM}/customers/${tenant.customerId}/tenants/${tenant.id}/users`
    const list = (await (await get(base, t)).json()) as { data: { id: string; tenantId: string; lastModifiedTime: string }[] }
    expect(list.data).toHaveLength(3)
    expect(list.data.every((u) => u.tenantId === tenant.id)).toBe(true)
    const all = (await (await get(`${UM}/users?pageSize=1`, t)).json()) as { metadata: { totalCount: number } }
    expect(all.metadata.totalCount).toBe(720)

    const user = list.data[0]!
    await control('POST', '/clock', { advanceMs: 60_000 })
    const put = (body: unknown) =>
      fetch(`${sim.baseUrl}${base}/${user.id}/account-information`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const res = await put({ displayName: 'Renamed User', accountEnabled: false })
    expect(res.status).toBe(200)
    const updated = (await res.json()) as { displayName: string; accountEnabled: boolean; lastModifiedTime: string }
    expect(updated).toMatchObject({ displayName: 'Renamed User', accountEnabled: false })
    expect(updated.lastModifiedTime > user.lastModifiedTime).toBe(true)
    expect((await put({ accountEnabled: 'no' })).status).toBe(400)
    expect((await put({})).status).toBe(400)
  })

  it('refuses account updates to a read-only token with 403', async () => {
    const t = await token('elements.um.user.read.all')
    const u = sim.store.data.users[0]!
    const res = await fetch(`${sim.baseUrl}${UM}/customers/${u.customerId}/tenants/${u.tenantId}/users/${u.id}/account-information`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
      body: JSON.stringify({ displayName: 'x' }),
    })
    expect(res.status).toBe(403)
    expect(sim.store.data.users[0]!.displayName).not.toBe('x')
  })
})

describe('avepoint control routes', () => {
  it('seeds deterministically, edits with a lastModifiedTime bump, deletes and dumps', async () => {
    const spec = { customers: 4, tenantsPerCustomer: 1, usersPerTenant: 2, services: 3, seed: 42 }
    const seeded = await control('POST', '/seed', spec)
    expect(await seeded.json()).toEqual({ counts: { customers: 4, tenants: 4, services: 3, users: 8 } })
    const firstIds = sim.store.data.users.map((u) => u.id)
    await control('POST', '/seed', spec)
    expect(sim.store.data.users.map((u) => u.id)).toEqual(firstIds)
    expect((await control('POST', '/seed', { customers: -1 })).status).toBe(400)

    const target = sim.store.data.customers[1]!
    const oldTime = target.lastModifiedTime
    const edited = (await (await control('POST', `/edit/customers/${target.id}`, { fields: { customerName: 'Edited Co' } })).json()) as Record<string, string>
    expect(edited.customerName).toBe('Edited Co')
    expect(edited.lastModifiedTime! > oldTime).toBe(true)
    expect((await control('POST', `/edit/customers/${target.id}`, { fields: { status: 3 } })).status).toBe(400)

    expect((await control('DELETE', `/items/customers/${target.id}`)).status).toBe(204)
    expect((await get(`${GENERAL}/customers/${target.id}`, await token())).status).toBe(404)
    const dump = (await (await control('GET', '/dump/customers')).json()) as { count: number }
    expect(dump.count).toBe(3)
    expect((await control('GET', '/dump/widgets')).status).toBe(404)
  })
})
