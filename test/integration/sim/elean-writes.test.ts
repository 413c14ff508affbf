import { describe, expect, it } from 'vitest'
import { useEleanSim } from '../../support/sim-elean.js'

const start = useEleanSim()

describe('Elean simulator: creating tasks', () => {
  it('creates a task with 201, defaults and the project key as external id prefix', async () => {
    const { api, control } = await start()
    await control('POST', '/seed', { project: 'web', count: 41 })
    const res = await api('POST', '/web/tasks', { body: { title: 'Fix login bug' } })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({
      externalId: 'WEB-42',
      title: 'Fix login bug',
      description: null,
      category: 'todo',
      status: { name: 'To Do', category: 'todo' },
      priority: 'medium',
      dueDate: null,
      assignees: [],
      attachments: [],
      parentId: null,
    })
    expect(res.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    expect(res.body.createdAt).toBe(res.body.updatedAt)
    expect((await api('GET', '/web/tasks/WEB-42')).body).toEqual(res.body)
  })

  it('trims the title, stores an empty description as null and canonicalizes dueDate', async () => {
    const { api, control } = await start()
    await control('POST', '/projects/web')
    const statuses = (await api('GET', '/web/statuses')).body as any[]
    const done = statuses.find((s) => s.category === 'done')
    const res = await api('POST', '/web/tasks', {
      body: { title: '  Padded  ', description: '', priority: 'high', dueDate: '2026-03-15', statusId: done.id },
    })
    expect(res.body).toMatchObject({ title: 'Padded', description: null, priority: 'high', dueDate: '2026-03-15T00:00:00.000Z', category: 'done' })
    expect(res.body.status).toEqual(done)
  })

  it('refuses invalid fields with 400 naming the field', async () => {
    const { api, control } = await start()
    await control('POST', '/projects/web')
    const cases: [unknown, RegExp][] = [
      [{}, /^title/],
      [{ title: '   ' }, /^title/],
      [{ title: 'x'.repeat(501) }, /^title/],
      [{ title: 'ok', priority: 'critical' }, /^priority/],
      [{ title: 'ok', dueDate: 'next tuesday' }, /^dueDate/],
      [{ title: 'ok', statusId: '00000000-0000-4000-a000-000000000000' }, /^statusId/],
      [{ title: 'ok', description: 42 }, /^description/],
      [['title'], /JSON object/],
    ]
    for (const [body, message] of cases) {
      const res = await api('POST', '/web/tasks', { body })
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.statusCode).toBe(400)
      expect(res.body.message).toMatch(message)
    }
    expect((await api('POST', '/web/tasks', { body: { title: 'x'.repeat(500) } })).status).toBe(201)
    expect((await api('GET', '/web/tasks')).body.meta.total).toBe(1)
  })
})

describe('Elean simulator: updating and deleting tasks', () => {
  it('changes only the fields sent and clears description and dueDate with null', async () => {
    const { api, control } = await start()
    await control('POST', '/projects/web')
    const created = (await api('POST', '/web/tasks', { body: { title: 'A', description: 'd', dueDate: '2026-01-01T00:00:00Z', priority: 'low' } })).body
    const patched = await api('PATCH', '/web/tasks/WEB-1', { body: { priority: 'urgent' } })
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({ title: 'A', description: 'd', dueDate: '2026-01-01T00:00:00.000Z', priority: 'urgent' })
    const cleared = await api('PATCH', `/web/tasks/${created.id}`, { body: { description: null, dueDate: null, title: ' B ' } })
    expect(cleared.body).toMatchObject({ title: 'B', description: null, dueDate: null, priority: 'urgent' })
    expect((await api('PATCH', '/web/tasks/WEB-1', { body: { title: '' } })).body.message).toMatch(/^title/)
    expect((await api('PATCH', '/web/tasks/WEB-1', { body: { statusId: 'nope' } })).body.message).toMatch(/^statusId/)
    expect((await api('PATCH', '/web/tasks/WEB-9', { body: {} })).status).toBe(404)
  })

  it('moves updatedAt on a PATCH that changes no value (documented quirk)', async () => {
    const { api, control } = await start()
    await control('POST', '/projects/web')
    const created = (await api('POST', '/web/tasks', { body: { title: 'Same' } })).body
    const same = await api('PATCH', '/web/tasks/WEB-1', { body: { title: 'Same' } })
    expect(same.body.title).toBe('Same')
    expect(Date.parse(same.body.updatedAt)).toBeGreaterThan(Date.parse(created.updatedAt))
    const empty = await api('PATCH', '/web/tasks/WEB-1', { body: {} })
    expect(Date.parse(empty.body.updatedAt)).toBeGreaterThan(Date.parse(same.body.updatedAt))
    expect(empty.body.createdAt).toBe(created.createdAt)
  })

  it('deletes under task:update, answering {success: true}, after which the task is gone', async () => {
    const { sim, api, control } = await start()
    await control('POST', '/seed', { project: 'web', count: 3 })
    const readOnly = sim.addKey({ scopes: ['task:read'] })
    expect((await api('DELETE', '/web/tasks/WEB-2', { key: readOnly })).status).toBe(403)
    const res = await api('DELETE', '/web/tasks/WEB-2')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ success: true })
    expect((await api('GET', '/web/tasks/WEB-2')).status).toBe(404)
    expect((await api('GET', '/web/tasks')).body.tasks.map((t: any) => t.externalId)).toEqual(['WEB-1', 'WEB-3'])
  })
})

describe('Elean simulator: comments', () => {
  it('adds comments as API and lists them oldest first without moving the task updatedAt', async () => {
    const { api, control } = await start()
    await control('POST', '/seed', { project: 'web', count: 1 })
    const before = (await api('GET', '/web/tasks/WEB-1')).body
    const first = await api('POST', '/web/tasks/WEB-1/comments', { body: { content: 'Deployed to staging.' } })
    expect(first.status).toBe(201)
    expect(first.body).toMatchObject({ content: 'Deployed to staging.', authorName: 'API' })
    expect(first.body.createdAt).toBe(first.body.updatedAt)
    await control('POST', '/tasks/web/WEB-1/comments', { content: 'Thanks!', authorName: 'Jane Smith' })
    const list = await api('GET', `/web/tasks/${before.id}/comments`)
    expect(list.body.map((c: any) => [c.authorName, c.content])).toEqual([
      ['API', 'Deployed to staging.'],
      ['Jane Smith', 'Thanks!'],
    ])
    expect(Object.keys(list.body[0]).sort()).toEqual(['authorName', 'content', 'createdAt', 'id', 'updatedAt'])
    expect((await api('GET', '/web/tasks/WEB-1')).body.updatedAt).toBe(before.updatedAt)
  })

  it('refuses empty or over-long content with 400 and needs task:update to post', async () => {
    const { sim, api, control } = await start()
    await control('POST', '/seed', { project: 'web', count: 1 })
    expect((await api('POST', '/web/tasks/WEB-1/comments', { body: { content: '' } })).body.message).toMatch(/^content/)
    expect((await api('POST', '/web/tasks/WEB-1/comments', { body: { content: 'x'.repeat(10_001) } })).status).toBe(400)
    expect((await api('POST', '/web/tasks/WEB-1/comments', { body: { content: 'x'.repeat(10_000) } })).status).toBe(201)
    const creator = sim.addKey({ scopes: ['task:read', 'task:create'] })
    expect((await api('POST', '/web/tasks/WEB-1/comments', { key: creator, body: { content: 'hi' } })).status).toBe(403)
    expect((await api('GET', '/web/tasks/WEB-7/comments')).status).toBe(404)
  })
})

describe('Elean simulator: attachments', () => {
  const upload = (bytes: Uint8Array | string, filename = 'notes.txt') => {
    const form = new FormData()
    form.append('file', new Blob([bytes], { type: 'text/plain' }), filename)
    return form
  }

  it('uploads a file and serves it at a presigned URL that expires after one simulated hour', async () => {
    const { sim, api, control } = await start()
    await control('POST', '/seed', { project: 'web', count: 1 })
    const res = await api('POST', '/web/tasks/WEB-1/attachments', { body: upload('hello elean') })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ filename: 'notes.txt', mimeType: 'text/plain', size: 11 })
    expect(res.body.url.startsWith(`${sim.server.url}/_files/`)).toBe(true)
    expect((await api('GET', '/web/tasks/WEB-1')).body.attachments).toEqual([{ id: res.body.id, filename: 'notes.txt' }])

    const download = await fetch(res.body.url)
    expect(download.status).toBe(200)
    expect(await download.text()).toBe('hello elean')

    await control('POST', '/clock', { advanceMs: 3_600_001 })
    const expired = await fetch(res.body.url)
    expect(expired.status).toBe(403)
    expect(await expired.json()).toEqual({ statusCode: 403, message: 'URL expired' })

    const fresh = await api('GET', `/web/tasks/WEB-1/attachments/${res.body.id}`)
    expect(fresh.body).toMatchObject({ id: res.body.id, filename: 'notes.txt', size: 11, createdAt: res.body.createdAt })
    expect(fresh.body.url).not.toBe(res.body.url)
    expect(await (await fetch(fresh.body.url)).text()).toBe('hello elean')
  })

  it('refuses a tampered URL, a URL sent with an API key, an unknown attachment and a missing file field', async () => {
    const { sim, api, control } = await start()
    await control('POST', '/seed', { project: 'web', count: 1 })
    const { body } = await api('POST', '/web/tasks/WEB-1/attachments', { body: upload('abc') })
    expect((await fetch(`${body.url}x`)).status).toBe(403)
    // a presigned URL is its own credential: an API key sent along is refused, as object stores do
    const withKey = await fetch(body.url, { headers: { authorization: `Bearer ${sim.credentials.apiKey}` } })
    expect(withKey.status).toBe(400)
    expect((await api('GET', '/web/tasks/WEB-1/attachments/nope')).status).toBe(404)
    const form = new FormData()
    form.append('other', 'value')
    const missing = await api('POST', '/web/tasks/WEB-1/attachments', { body: form })
    expect(missing.status).toBe(400)
    expect(missing.body.message).toMatch(/^file/)
  })

  it('answers 413 from the handler for a file above maxAttachmentBytes', async () => {
    const { api, control } = await start({ maxAttachmentBytes: 1024 })
    await control('POST', '/seed', { project: 'web', count: 1 })
    expect((await api('POST', '/web/tasks/WEB-1/attachments', { body: upload(new Uint8Array(1024)) })).status).toBe(201)
    const res = await api('POST', '/web/tasks/WEB-1/attachments', { body: upload(new Uint8Array(4096)) })
    expect(res.status).toBe(413)
    expect(res.body).toEqual({ statusCode: 413, message: 'file exceeds the maximum size of 1024 bytes' })
  })
})
