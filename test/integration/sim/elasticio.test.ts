import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startElasticio, type StartedElasticio } from '../../../src/sim/elasticio/index.js'

interface Item {
  id: string
  type: string
  attributes: Record<string, unknown> & { updated_at: string; created_at: string }
  relationships: Record<string, { data: { id: string; type: string }; links: { self: string } }>
  links: { self: string }
}
interface ListDoc {
  data: Item[]
  meta: { page: number; per_page: number; total: number; total_pages: number }
  links: { self: string }
}
interface ErrorDoc {
  errors: { status: string; title: string; detail: string }[]
}

let sim: StartedElasticio
let ws: string
const AUTH = `Basic ${Buffer.from('ops@example.com:key-123').toString('base64')}`

beforeEach(async () => {
  sim = await startElasticio({ email: 'ops@example.com', apiKey: 'key-123', seed: 3 })
  sim.store.seed({ flows: 130, lookups: 12, credentials: 5, users: 4, organizations: 2 })
  ws = sim.store.workspaceId
})
afterEach(() => sim.close())

function api(path: string, init: RequestInit = {}, auth: string | null = AUTH): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) }
  return fetch(`${sim.baseUrl}${path}`, { ...init, headers })
}
const json = async <T>(res: Response | Promise<Response>): Promise<T> => (await (await res).json()) as T
const control = (method: string, path: string, body?: unknown) =>
  fetch(`${sim.server.url}/_sim${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body !== undefined && { body: JSON.stringify(body) }) })
const patch = (path: string, body: unknown) => api(path, { method: 'PATCH', body: JSON.stringify(body) })

describe('elasticio auth and errors', () => {
  it('answers 401 with JSON:API error objects without or with wrong Basic credentials', async () => {
    for (const auth of [null, `Basic ${Buffer.from('ops@example.com:nope').toString('base64')}`]) {
      const res = await api('/users', {}, auth)
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toContain('Basic')
      const body = await json<ErrorDoc>(res)
      expect(body.errors[0]).toMatchObject({ status: '401', title: 'Unauthorized' })
    }
    expect(sim.credentials).toEqual({ email: 'ops@example.com', apiKey: 'key-123' })
  })

  it('answers the authenticated account at /users/me', async () => {
    const res = await json<{ data: Item }>(api('/users/me'))
    expect(res.data).toMatchObject({ type: 'user', attributes: { email: 'ops@example.com' } })
  })

  it('answers 404 for an unknown id and an unknown collection', async () => {
    const res = await api('/flows/000000000000000000000000')
    expect(res.status).toBe(404)
    expect((await json<ErrorDoc>(res)).errors[0]?.status).toBe('404')
    expect((await api('/contracts')).status).toBe(404)
  })

  it('answers 429 with Retry-After and 503 in the JSON:API error shape when those faults are armed', async () => {
    await control('POST', '/faults', { kind: 'rate-limit', count: 1, retryAfterSeconds: 2 })
    await control('POST', '/faults', { kind: 'status', status: 503, count: 1 })
    const limited = await api('/users')
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('2')
    expect((await json<ErrorDoc>(limited)).errors[0]).toMatchObject({ status: '429', title: 'Too Many Requests' })
    const down = await api('/users')
    expect(down.status).toBe(503)
    expect((await json<ErrorDoc>(down)).errors[0]?.title).toBe('Service Unavailable')
    expect((await api('/users')).status).toBe(200)
  })
})

describe('elasticio lists', () => {
  it('pages with page[size]/page[number] and reports meta and links', async () => {
    const first = await json<ListDoc>(api(`/flows?workspace_id=${ws}`))
    expect(first.data).toHaveLength(50)
    expect(first.meta).toEqual({ page: 1, per_page: 50, total: 130, total_pages: 3 })
    const last = await json<ListDoc>(api(`/flows?workspace_id=${ws}&page[size]=100&page[number]=2`))
    expect(last.data).toHaveLength(30)
    expect(last.meta).toMatchObject({ page: 2, per_page: 100, total_pages: 2 })
    expect(last.links.self).toContain('page[number]=2')
    expect(first.data[0]?.links.self).toBe(`/v2/flows/${first.data[0]?.id}`)
    expect(first.data[0]?.relationships.workspace?.data).toEqual({ type: 'workspace', id: ws })
  })

  it('refuses page[size] above 100 and page[number] below 1 with 400', async () => {
    expect((await api('/users?page[size]=101')).status).toBe(400)
    expect((await api('/users?page[number]=0')).status).toBe(400)
  })

  it('sorts by id by default and by updated_at, created_at or name on request', async () => {
    const ids = (await json<ListDoc>(api('/lookups'))).data.map((x) => x.id)
    expect(ids).toEqual([...ids].sort())
    const desc = (await json<ListDoc>(api('/lookups?sort=-updated_at'))).data.map((x) => x.attributes.updated_at)
    expect(desc).toEqual([...desc].sort().reverse())
    expect(desc).not.toEqual([...desc].sort())
    const names = (await json<ListDoc>(api('/lookups?sort=name'))).data.map((x) => String(x.attributes.title))
    expect(names).toEqual([...names].sort())
    const res = await api('/lookups?sort=title')
    expect(res.status).toBe(400)
    expect((await json<ErrorDoc>(res)).errors[0]?.detail).toContain('title')
  })

  it('requires workspace_id for flows and filters them by status', async () => {
    const missing = await api('/flows')
    expect(missing.status).toBe(400)
    expect((await json<ErrorDoc>(missing)).errors[0]?.detail).toContain('workspace_id')
    const active = await json<ListDoc>(api(`/flows?workspace_id=${ws}&filter[status]=active&page[size]=100`))
    expect(active.meta.total).toBe(sim.store.data.flows.filter((f) => f.attributes.status === 'active').length)
    expect(active.data.every((f) => f.attributes.status === 'active')).toBe(true)
    expect(active.meta.total).toBeGreaterThan(0)
    expect((await json<ListDoc>(api('/flows?workspace_id=elsewhere'))).meta.total).toBe(0)
    expect((await api(`/flows?workspace_id=${ws}&filter[status]=paused`)).status).toBe(400)
  })

  it('serves credential secrets in clear, with component and workspace relationships', async () => {
    const list = await json<ListDoc>(api('/credentials'))
    const cred = list.data[0]!
    expect(cred.attributes.keys).toMatchObject({ apiKey: expect.stringMatching(/^secret-/), password: expect.any(String) })
    expect(Object.keys(cred.relationships)).toEqual(expect.arrayContaining(['component', 'workspace']))
  })

  it('inserts an item at the head of the next list when the drift fault is armed', async () => {
    const head = sim.store.data.users[0]!.id
    await control('POST', '/faults', { kind: 'drift', insert: 1, count: 1 })
    const page = await json<ListDoc>(api('/users?page[size]=2'))
    expect(page.meta.total).toBe(5)
    expect(page.data[1]?.id).toBe(head)
    expect(page.data[0]!.id < head).toBe(true)
  })
})

describe('elasticio updates', () => {
  it('applies a PATCH document and bumps updated_at', async () => {
    const flow = sim.store.data.flows[0]!
    const before = flow.attributes.updated_at
    const res = await patch(`/flows/${flow.id}`, { data: { type: 'flow', id: flow.id, attributes: { name: 'Renamed', status: 'inactive' } } })
    expect(res.status).toBe(200)
    const { data } = await json<{ data: Item }>(res)
    expect(data.attributes).toMatchObject({ name: 'Renamed', status: 'inactive' })
    expect(data.attributes.updated_at > before).toBe(true)
    expect((await json<{ data: Item }>(api(`/flows/${flow.id}`))).data.attributes.name).toBe('Renamed')
  })

  it('rejects malformed PATCH documents with 400 and a wrong type with 409', async () => {
    const org = sim.store.data.organizations[0]!
    const cases: [unknown, number][] = [
      [{ name: 'bare attributes' }, 400],
      [{ data: { type: 'organization', id: 'other', attributes: { name: 'x' } } }, 400],
      [{ data: { type: 'organization', id: org.id, attributes: { name: 42 } } }, 400],
      [{ data: { type: 'organization', id: org.id, attributes: { updated_at: '2020-01-01T00:00:00.000Z' } } }, 400],
      [{ data: { type: 'flow', id: org.id, attributes: { name: 'x' } } }, 409],
    ]
    for (const [body, status] of cases) expect((await patch(`/organizations/${org.id}`, body)).status, JSON.stringify(body)).toBe(status)
    expect(sim.store.data.organizations[0]!.attributes.name).toBe(org.attributes.name)
  })

  it('serves lookup tables as the documented {title, data: {key: value}} and replaces both on PUT, bumping updated_at', async () => {
    const lookup = sim.store.data.lookups[0]!
    expect(Object.keys(lookup.attributes).sort()).toEqual(['created_at', 'data', 'title', 'updated_at'])
    const before = lookup.attributes.updated_at
    const put = (attributes: unknown) =>
      api(`/lookups/${lookup.id}`, { method: 'PUT', body: JSON.stringify({ data: { type: 'lookup', id: lookup.id, attributes } }) })
    const res = await put({ title: 'Status map', data: { Open: 'To Do' } })
    expect(res.status).toBe(200)
    const { data } = await json<{ data: Item }>(res)
    expect(data.attributes).toMatchObject({ title: 'Status map', data: { Open: 'To Do' } })
    expect(data.attributes.updated_at > before).toBe(true)
    // title and data are both required; data is flat, string to string
    expect((await put({ data: { Open: 'To Do' } })).status).toBe(400)
    expect((await put({ title: 'no data' })).status).toBe(400)
    expect((await put({ title: 't', data: { a: 1 } })).status).toBe(400)
    expect((await put({ title: 't', data: {}, entries: [] })).status).toBe(400)
    expect((await api(`/flows/${sim.store.data.flows[0]!.id}`, { method: 'PUT', body: '{}' })).status).toBe(405)
  })

  it('creates a lookup table with 201 (title and data required) and deletes one with 204', async () => {
    const post = (attributes: unknown) => api('/lookups', { method: 'POST', body: JSON.stringify({ data: { type: 'lookup', attributes } }) })
    expect((await post({ title: 'only a title' })).status).toBe(400)
    const created = await post({ title: 'Priorities', data: { P1: 'urgent' } })
    expect(created.status).toBe(201)
    const { data } = await json<{ data: Item }>(created)
    expect(data).toMatchObject({ type: 'lookup', attributes: { title: 'Priorities', data: { P1: 'urgent' } } })
    expect((await json<{ data: Item }>(api(`/lookups/${data.id}`))).data.attributes.data).toEqual({ P1: 'urgent' })
    const deleted = await api(`/lookups/${data.id}`, { method: 'DELETE' })
    expect(deleted.status).toBe(204)
    expect((await api(`/lookups/${data.id}`)).status).toBe(404)
    expect((await api(`/lookups/${data.id}`, { method: 'DELETE' })).status).toBe(404)
  })

  it('starts and stops a flow with 202', async () => {
    const flow = sim.store.data.flows[1]!
    const started = await api(`/flows/${flow.id}/start`, { method: 'POST' })
    expect(started.status).toBe(202)
    expect(sim.store.get('flows', flow.id)?.attributes.status).toBe('active')
    const stopped = await api(`/flows/${flow.id}/stop`, { method: 'POST' })
    expect(stopped.status).toBe(202)
    expect((await json<{ data: Item }>(stopped)).data.attributes.status).toBe('inactive')
  })
})

describe('elasticio control routes', () => {
  it('seeds deterministically, edits with an updated_at bump, deletes and dumps', async () => {
    const spec = { flows: 3, lookups: 2, credentials: 1, users: 2, organizations: 1, workspaceId: 'ws-1', seed: 9 }
    expect(await json(control('POST', '/seed', spec))).toEqual({
      counts: { flows: 3, lookups: 2, credentials: 1, users: 2, organizations: 1 },
      workspaceId: 'ws-1',
    })
    const ids = sim.store.data.credentials.map((c) => c.id)
    await control('POST', '/seed', spec)
    expect(sim.store.data.credentials.map((c) => c.id)).toEqual(ids)

    const user = sim.store.data.users[0]!
    const before = user.attributes.updated_at
    const edited = await json<Item>(control('POST', `/edit/users/${user.id}`, { attributes: { first_name: 'Edited' } }))
    expect(edited.attributes.first_name).toBe('Edited')
    expect(edited.attributes.updated_at > before).toBe(true)

    expect((await control('DELETE', `/items/users/${user.id}`)).status).toBe(204)
    expect((await api(`/users/${user.id}`)).status).toBe(404)
    expect((await json<{ count: number }>(control('GET', '/dump/users'))).count).toBe(1)
    expect((await control('DELETE', `/items/users/${user.id}`)).status).toBe(404)
  })
})
