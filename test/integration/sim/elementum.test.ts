import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startElementum, type StartedElementum } from '../../../src/sim/elementum/index.js'

// The Elementum simulator through loopback HTTP (no database).

let sim: StartedElementum
let token: string

const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`

async function issueToken(s: StartedElementum): Promise<string> {
  const res = await fetch(`${s.server.url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: basic(s.credentials.clientId ?? '', s.credentials.clientSecret ?? '') },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  })
  expect(res.status).toBe(200)
  return ((await res.json()) as { access_token: string }).access_token
}

async function api(path: string, init: RequestInit = {}, s: StartedElementum = sim, t: string = token): Promise<Response> {
  const headers = new Headers(init.headers)
  headers.set('authorization', `Bearer ${t}`)
  if (typeof init.body === 'string' && !headers.has('content-type')) headers.set('content-type', 'application/json')
  return fetch(`${s.baseUrl}${path}`, { ...init, headers })
}
const json = async (res: Response): Promise<any> => res.json()
const control = (path: string, body?: unknown, method = 'POST', s: StartedElementum = sim): Promise<Response> =>
  fetch(`${s.server.url}/_sim${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
const advance = (ms: number, s: StartedElementum = sim): Promise<Response> => control('/clock', { advanceMs: ms }, 'POST', s)

async function createTask(fields: Record<string, string> = {}): Promise<Record<string, string>> {
  const res = await api('/tasks/ops', { method: 'POST', body: JSON.stringify({ Title: 'Replace badge reader', ...fields }) })
  expect(res.status).toBe(201)
  return json(res)
}

beforeAll(async () => {
  sim = await startElementum({ port: 0, tokenTtlSeconds: 600, processingMs: 5_000 })
  expect((await control('/seed', { alias: 'ops', count: 0 })).status).toBe(201)
  token = await issueToken(sim)
})
afterAll(() => sim.close())
afterEach(() => control('/faults', undefined, 'DELETE'))

describe('OAuth token endpoint', () => {
  it('issues a bearer token for a form body with HTTP Basic credentials', async () => {
    const res = await fetch(`${sim.server.url}/oauth/token`, {
      method: 'POST',
      headers: { authorization: basic('elsync-sim-client', 'elsync-sim-secret') },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    })
    expect(res.status).toBe(200)
    const body = await json(res)
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 600 })
    expect((await api('/tasks/ops', {}, sim, body.access_token)).status).toBe(200)
  })

  it('accepts the older JSON body with client_id and client_secret', async () => {
    const res = await fetch(`${sim.server.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: 'elsync-sim-client', client_secret: 'elsync-sim-secret' }),
    })
    expect(res.status).toBe(200)
    expect(typeof (await json(res)).access_token).toBe('string')
  })

  it('answers 401 for a wrong secret and 400 for another grant_type', async () => {
    const wrong = await fetch(`${sim.server.url}/oauth/token`, {
      method: 'POST',
      headers: { authorization: basic('elsync-sim-client', 'nope') },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    })
    expect(wrong.status).toBe(401)
    expect(await json(wrong)).toEqual({ status: 401, message: 'Invalid client credentials' })
    const grant = await fetch(`${sim.server.url}/oauth/token`, {
      method: 'POST',
      headers: { authorization: basic('elsync-sim-client', 'elsync-sim-secret') },
      body: new URLSearchParams({ grant_type: 'password' }),
    })
    expect(grant.status).toBe(400)
  })

  it('rejects /v1 requests without a token or with an unknown one', async () => {
    expect((await fetch(`${sim.baseUrl}/tasks/ops`)).status).toBe(401)
    const res = await api('/tasks/ops', {}, sim, 'forged')
    expect(res.status).toBe(401)
    expect((await json(res)).status).toBe(401)
  })

  it('expires a token after tokenTtlSeconds of simulated time', async () => {
    const s = await startElementum({ port: 0, tokenTtlSeconds: 60 })
    try {
      await control('/seed', { alias: 'ops', count: 1 }, 'POST', s)
      const t = await issueToken(s)
      expect((await api('/tasks/ops', {}, s, t)).status).toBe(200)
      await advance(61_000, s)
      const res = await api('/tasks/ops', {}, s, t)
      expect(res.status).toBe(401)
      expect((await json(res)).message).toBe('Access token expired')
    } finally {
      await s.close()
    }
  })
})

describe('search paging', () => {
  beforeAll(async () => {
    expect((await control('/seed', { alias: 'paging', count: 250, seed: 7 })).status).toBe(201)
  })

  it('returns every record exactly once over three pages of 100', async () => {
    const seen: string[] = []
    let after: string | null = null
    let pages = 0
    for (;;) {
      const body: any = await json(await api(`/tasks/paging?first=100${after ? `&after=${encodeURIComponent(after)}` : ''}`))
      pages++
      expect(body.total).toBe(250)
      seen.push(...body.items.map((i: any) => i.data.id))
      if (!body.paging.has_next_page) break
      after = body.paging.end_cursor
    }
    expect(pages).toBe(3)
    expect(seen).toHaveLength(250)
    expect(new Set(seen).size).toBe(250)
    expect(seen[0]).toBe('TSK-1')
  })

  it('resumes after the cursor even when records around it were deleted or added', async () => {
    await control('/seed', { alias: 'moving', count: 10 })
    const page1 = await json(await api('/tasks/moving?first=3'))
    expect(page1.items.map((i: any) => i.data.id)).toEqual(['TSK-1', 'TSK-2', 'TSK-3'])
    expect((await control('/records/tasks/moving/TSK-3', undefined, 'DELETE')).status).toBe(204)
    await control('/records/tasks/moving/TSK-1', undefined, 'DELETE')
    await control('/records/tasks/moving', { fields: { Title: 'Late arrival' } })
    const page2 = await json(await api(`/tasks/moving?first=100&after=${encodeURIComponent(page1.paging.end_cursor)}`))
    expect(page2.items.map((i: any) => i.data.id)).toEqual(['TSK-4', 'TSK-5', 'TSK-6', 'TSK-7', 'TSK-8', 'TSK-9', 'TSK-10', 'TSK-11'])
    expect(page2.total).toBe(9)
  })

  it('pages backwards with last and before', async () => {
    const tail = await json(await api('/tasks/paging?last=100'))
    expect(tail.items[0].data.id).toBe('TSK-151')
    expect(tail.items.at(-1).data.id).toBe('TSK-250')
    expect(tail.paging).toMatchObject({ has_previous_page: true, has_next_page: false })
    const before = await json(await api(`/tasks/paging?last=2&before=${encodeURIComponent(tail.paging.start_cursor)}`))
    expect(before.items.map((i: any) => i.data.id)).toEqual(['TSK-149', 'TSK-150'])
  })

  it.each(['first=0', 'first=1001', 'first=abc', 'last=0', 'first=5&last=5', 'after=bm90LWEtY3Vyc29y'])('answers 400 for %s', async (q) => {
    const res = await api(`/tasks/paging?${q}`)
    expect(res.status).toBe(400)
    expect((await json(res)).status).toBe(400)
  })

  it('applies an armed drift fault before the search', async () => {
    await control('/seed', { alias: 'drift', count: 5 })
    await control('/faults', { kind: 'drift', insert: 2, delete: 3, route: '/v1/tasks/drift' })
    const body = await json(await api('/tasks/drift'))
    expect(body.items.map((i: any) => i.data.id)).toEqual(['TSK-4', 'TSK-5', 'TSK-6', 'TSK-7'])
    expect((await json(await api('/tasks/drift'))).total).toBe(4)
  })

  it('seeds the same records for the same seed, timestamps relative to the simulated now', async () => {
    // Field values and the spacing of Created on are fixed by the seed; the origin is "now".
    const shape = async (alias: string): Promise<unknown[]> => {
      await control('/seed', { alias, count: 20, seed: 99 })
      const items: any[] = (await json(await api(`/tasks/${alias}`))).items
      const t0 = Date.parse(items[0].data['Created on'])
      return items.map(({ data: { 'Created on': created, 'Updated on': _u, ...rest } }) => ({ ...rest, offset: Date.parse(created) - t0 }))
    }
    const a = await shape('twin-a')
    expect(await shape('twin-b')).toEqual(a)
    expect(new Set(a.map((x: any) => x.offset)).size).toBeGreaterThan(1)
    await control('/seed', { alias: 'other-seed', count: 20, seed: 100 })
    const other = (await json(await api('/tasks/other-seed'))).items.map((i: any) => i.data.Title)
    expect(other).not.toEqual(a.map((x: any) => x.Title))
  })
})

describe('records', () => {
  it('creates, reads and partially updates a record keyed by display names', async () => {
    const created = await createTask({ Priority: 'P1', 'Due Date': '2024-06-01T00:00:00.000Z' })
    expect(created).toMatchObject({ Title: 'Replace badge reader', Status: 'Open', Priority: 'P1' })
    expect(created.id).toMatch(/^TSK-\d+$/)
    expect(created['Updated on']).toBe(created['Created on'])
    expect(await json(await api(`/tasks/ops/${created.id}`))).toEqual(created)
    await advance(60_000)
    const res = await api(`/tasks/ops/${created.id}`, { method: 'PUT', body: JSON.stringify({ Status: 'In Progress' }) })
    expect(res.status).toBe(200)
    const updated = await json(res)
    expect(updated).toMatchObject({ Status: 'In Progress', Priority: 'P1', Title: 'Replace badge reader' })
    expect(Date.parse(updated['Updated on'])).toBeGreaterThan(Date.parse(created['Updated on'] ?? ''))
  })

  it('keeps Updated on when a PUT changes nothing', async () => {
    const created = await createTask({ Status: 'Closed' })
    await advance(60_000)
    const res = await api(`/tasks/ops/${created.id}`, { method: 'PUT', body: JSON.stringify({ data: { Status: 'Closed', Title: created.Title } }) })
    expect((await json(res))['Updated on']).toBe(created['Updated on'])
  })

  it('accepts a {data: {...}} wrapper on create', async () => {
    const res = await api('/tasks/ops', { method: 'POST', body: JSON.stringify({ data: { Title: 'Wrapped' } }) })
    expect(res.status).toBe(201)
    expect((await json(res)).Title).toBe('Wrapped')
  })

  it('rejects a picklist value that is not configured and a missing Title', async () => {
    expect((await api('/tasks/ops', { method: 'POST', body: JSON.stringify({ Title: 'x', Status: 'Done' }) })).status).toBe(400)
    expect((await api('/tasks/ops', { method: 'POST', body: JSON.stringify({ Status: 'Open' }) })).status).toBe(400)
  })

  it('refuses a create or update naming a field the record type does not define, naming the field', async () => {
    await control('/records/tasks/ops', { fields: { Title: 'Defines Region', Region: 'EU' } })
    expect((await api('/tasks/ops', { method: 'POST', body: JSON.stringify({ Title: 'x', Region: 'US' }) })).status).toBe(201)
    const created = await api('/tasks/ops', { method: 'POST', body: JSON.stringify({ Title: 'x', Colour: 'red' }) })
    expect(created.status).toBe(400)
    expect((await json(created)).message).toMatch(/field "Colour"/)
    const task = await createTask()
    const updated = await api(`/tasks/ops/${task.id}`, { method: 'PUT', body: JSON.stringify({ Colour: 'red' }) })
    expect(updated.status).toBe(400)
    expect((await json(updated)).message).toMatch(/field "Colour"/)
  })

  it('answers 403 to every write on a record type the client may not write to, and still serves reads', async () => {
    const task = await createTask()
    expect((await control('/permissions/tasks/ops', { write: false }, 'PUT')).status).toBe(204)
    const writes = [
      api('/tasks/ops', { method: 'POST', body: JSON.stringify({ Title: 'x' }) }),
      api(`/tasks/ops/${task.id}`, { method: 'PUT', body: JSON.stringify({ Title: 'y' }) }),
      api(`/tasks/ops/${task.id}/comment`, { method: 'POST', body: 'hi', headers: { 'content-type': 'text/plain' } }),
    ]
    for (const res of await Promise.all(writes)) {
      expect(res.status).toBe(403)
      expect((await json(res)).message).toBe('Client elsync-sim-client does not have write permission on tasks/ops')
    }
    expect((await api(`/tasks/ops/${task.id}`)).status).toBe(200)
    expect((await control('/permissions/tasks/ops', { write: true }, 'PUT')).status).toBe(204)
    expect((await api(`/tasks/ops/${task.id}`, { method: 'PUT', body: JSON.stringify({ Title: 'y' }) })).status).toBe(200)
  })

  it('answers 404 for an unknown record type, alias or id', async () => {
    const types = await api('/widgets/ops')
    expect(types.status).toBe(404)
    expect(await json(types)).toEqual({ status: 404, message: 'Unknown record type "widgets"' })
    expect((await api('/tasks/nowhere')).status).toBe(404)
    expect((await api('/tasks/ops/TSK-999999')).status).toBe(404)
    expect((await api('/tasks/ops/TSK-999999', { method: 'PUT', body: '{}' })).status).toBe(404)
  })

  it('bumps Updated on for a human edit and hides a human delete', async () => {
    const created = await createTask()
    await advance(1_000)
    const edited = await json(await control(`/records/tasks/ops/${created.id}/edit`, { fields: { Assignee: 'grace.hopper@example.com' } }))
    expect(edited.Assignee).toBe('grace.hopper@example.com')
    expect(edited['Updated on']).not.toBe(created['Updated on'])
    await control(`/records/tasks/ops/${created.id}`, undefined, 'DELETE')
    expect((await api(`/tasks/ops/${created.id}`)).status).toBe(404)
    const dump = await json(await fetch(`${sim.server.url}/_sim/records/tasks/ops`))
    expect(dump.items.some((i: any) => i.data.id === created.id)).toBe(false)
  })
})

describe('comments', () => {
  it('adds a text/plain comment with source API without touching Updated on', async () => {
    const task = await createTask()
    await advance(5_000)
    const res = await api(`/tasks/ops/${task.id}/comment`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'Parts ordered' })
    expect(res.status).toBe(201)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
    const commentId = await res.text()
    await control(`/records/tasks/ops/${task.id}/comments`, { contents: 'Thanks!', author: 'ada.lovelace@example.com' })
    const list = await json(await api(`/tasks/ops/${task.id}/comment`))
    expect(list.total).toBe(2)
    expect(list.items.map((c: any) => [c.contents, c.source])).toEqual([
      ['Parts ordered', 'API'],
      ['Thanks!', 'WEB'],
    ])
    expect(list.items[0].id).toBe(commentId)
    expect(list.items[1].createdBy).toMatchObject({ email: 'ada.lovelace@example.com', firstName: 'Ada' })
    expect((await json(await api(`/tasks/ops/${task.id}`)))['Updated on']).toBe(task['Updated on'])
  })

  it('rejects an empty comment and a JSON comment with 400', async () => {
    const task = await createTask()
    expect((await api(`/tasks/ops/${task.id}/comment`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '  ' })).status).toBe(400)
    expect((await api(`/tasks/ops/${task.id}/comment`, { method: 'POST', body: JSON.stringify({ text: 'hi' }) })).status).toBe(400)
  })

  it('pages comments oldest first with first and after', async () => {
    const task = await createTask()
    for (const text of ['one', 'two', 'three'])
      await api(`/tasks/ops/${task.id}/comment`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: text })
    const p1 = await json(await api(`/tasks/ops/${task.id}/comment?first=2`))
    expect(p1.items.map((c: any) => c.contents)).toEqual(['one', 'two'])
    const p2 = await json(await api(`/tasks/ops/${task.id}/comment?first=2&after=${encodeURIComponent(p1.paging.end_cursor)}`))
    expect(p2.items.map((c: any) => c.contents)).toEqual(['three'])
    expect(p2.paging.has_next_page).toBe(false)
  })
})

describe('attachments', () => {
  const upload = (id: string, bytes: Uint8Array, s: StartedElementum = sim, t: string = token): Promise<Response> => {
    const form = new FormData()
    form.append('file', new Blob([bytes], { type: 'text/plain' }), 'notes.txt')
    form.append('description', 'site survey')
    return api(`/tasks/ops/${id}/attachments`, { method: 'POST', body: form }, s, t)
  }

  it('accepts an upload with 202 as PROCESSING and serves it as VALID after processingMs', async () => {
    const task = await createTask()
    const res = await upload(task.id ?? '', new TextEncoder().encode('hello attachment'))
    expect(res.status).toBe(202)
    const att = await json(res)
    expect(att).toMatchObject({ name: 'notes.txt', description: 'site survey', mediaType: 'text/plain', size: 16, state: 'PROCESSING' })
    expect((await api(`/tasks/ops/${task.id}/attachments/${att.id}/content`)).status).toBe(409)
    await advance(5_000)
    const list = await json(await api(`/tasks/ops/${task.id}/attachments`))
    expect(list).toHaveLength(1)
    expect(list[0].state).toBe('VALID')
    const content = await fetch(list[0].contentUrl, { headers: { authorization: `Bearer ${token}` } })
    expect(await content.text()).toBe('hello attachment')
    expect((await api(`/tasks/ops/${task.id}/attachments/${att.id}`, { method: 'DELETE' })).status).toBe(204)
    expect((await api(`/tasks/ops/${task.id}/attachments/${att.id}`)).status).toBe(404)
  })

  it('answers 413 for a file above maxAttachmentBytes', async () => {
    const s = await startElementum({ port: 0, maxAttachmentBytes: 1024 })
    try {
      await control('/records/tasks/ops', { fields: { Title: 'Big' } }, 'POST', s)
      const t = await issueToken(s)
      const res = await upload('TSK-1', new Uint8Array(2048), s, t)
      expect(res.status).toBe(413)
      expect((await json(res)).status).toBe(413)
      expect((await upload('TSK-1', new Uint8Array(1000), s, t)).status).toBe(202)
    } finally {
      await s.close()
    }
  })

  it('adds a url link as a VALID attachment', async () => {
    const task = await createTask()
    const res = await api(`/tasks/ops/${task.id}/attachments/url-links`, {
      method: 'POST',
      body: JSON.stringify({ url: 'https://example.com/spec.pdf', description: 'spec' }),
    })
    expect(res.status).toBe(201)
    expect(await json(res)).toMatchObject({ state: 'VALID', contentUrl: 'https://example.com/spec.pdf', description: 'spec' })
    const bad = await api(`/tasks/ops/${task.id}/attachments/url-links`, { method: 'POST', body: JSON.stringify({ url: 'not a url' }) })
    expect(bad.status).toBe(400)
  })
})

describe('related items and watchers', () => {
  it('relates two records, lists the relation with its type, and removes it', async () => {
    const a = await createTask()
    await control('/records/apps/portal', { fields: { Title: 'Portal' } })
    const add = await api(`/tasks/ops/${a.id}/related-items`, { method: 'POST', body: JSON.stringify({ id: 'APP-1', alias: 'portal' }) })
    expect(add.status).toBe(201)
    const list = await json(await api(`/tasks/ops/${a.id}/related-items`))
    expect(list.total).toBe(1)
    expect(list.items[0]).toMatchObject({ id: 'APP-1', type: 'APP', alias: 'portal' })
    const missing = await api(`/tasks/ops/${a.id}/related-items`, { method: 'POST', body: JSON.stringify({ id: 'APP-404', alias: 'portal' }) })
    expect(missing.status).toBe(404)
    expect((await api(`/tasks/ops/${a.id}/related-items/${list.items[0].relationId}`, { method: 'DELETE' })).status).toBe(204)
    expect((await json(await api(`/tasks/ops/${a.id}/related-items`))).total).toBe(0)
  })

  it('adds watchers by email or userId and removes them', async () => {
    const task = await createTask()
    const added = await api(`/tasks/ops/${task.id}/watchers`, { method: 'POST', body: JSON.stringify({ email: 'alan.turing@example.com' }) })
    expect(added.status).toBe(201)
    const watchers = await json(await api(`/tasks/ops/${task.id}/watchers`))
    expect(watchers.map((w: any) => w.email)).toEqual(['alan.turing@example.com'])
    const del = await api(`/tasks/ops/${task.id}/watchers`, { method: 'DELETE', body: JSON.stringify({ userId: watchers[0].id }) })
    expect(del.status).toBe(204)
    expect(await json(await api(`/tasks/ops/${task.id}/watchers`))).toEqual([])
    expect((await api(`/tasks/ops/${task.id}/watchers`, { method: 'POST', body: JSON.stringify({ email: 'nobody@example.com' }) })).status).toBe(404)
  })
})

describe('fault injection', () => {
  it('answers an armed 503 with the vendor error shape and counts it in /_sim/stats', async () => {
    await control('/faults', { kind: 'status', status: 503, count: 1 })
    const res = await api('/tasks/ops')
    expect(res.status).toBe(503)
    expect(await json(res)).toEqual({ status: 503, message: 'Injected failure' })
    expect((await api('/tasks/ops')).status).toBe(200)
    const stats = await json(await fetch(`${sim.server.url}/_sim/stats`))
    expect(stats.byRoute['GET /v1/:recordType/:alias']['503']).toBe(1)
  })
})
