import { describe, expect, it } from 'vitest'
import { useEleanSim } from '../../support/sim-elean.js'

const start = useEleanSim()

describe('Elean simulator: authentication', () => {
  it('answers 401 with {statusCode, message} when the key is missing, unknown or malformed', async () => {
    const { api, control } = await start()
    await control('POST', '/projects/web')
    const missing = await api('GET', '/web/statuses', { key: null })
    expect(missing.status).toBe(401)
    expect(missing.body).toEqual({ statusCode: 401, message: 'Missing API key' })
    expect((await api('GET', '/web/statuses', { key: `el_${'0'.repeat(40)}` })).body).toEqual({ statusCode: 401, message: 'Invalid API key' })
    expect((await api('GET', '/web/statuses', { key: 'not-a-key' })).status).toBe(401)
  })

  it('accepts the key in X-API-Key as well as Bearer', async () => {
    const { sim, api, control } = await start()
    await control('POST', '/projects/web')
    const res = await api('GET', '/web/statuses', { key: null, headers: { 'x-api-key': sim.credentials.apiKey as string } })
    expect(res.status).toBe(200)
  })

  it('rejects a key with 401 once its expiry passes on the simulated clock', async () => {
    const { sim, api, control } = await start()
    await control('POST', '/projects/web')
    const key = sim.addKey({ expiresInMs: 60_000 })
    expect((await api('GET', '/web/statuses', { key })).status).toBe(200)
    await control('POST', '/clock', { advanceMs: 60_001 })
    const res = await api('GET', '/web/statuses', { key })
    expect(res.status).toBe(401)
    expect(res.body.message).toMatch(/expired/)
  })

  it('answers 403 naming the scope when the key lacks it', async () => {
    const { api, control } = await start()
    await control('POST', '/projects/web')
    const { body } = await control('POST', '/keys', { scopes: ['task:read'] })
    expect((await api('GET', '/web/tasks', { key: body.key })).status).toBe(200)
    const res = await api('POST', '/web/tasks', { key: body.key, body: { title: 'x' } })
    expect(res.status).toBe(403)
    expect(res.body).toEqual({ statusCode: 403, message: 'Missing required scope: task:create' })
    expect((await api('DELETE', '/web/tasks/WEB-1', { key: body.key })).status).toBe(403)
  })

  it('answers 403 for a project outside the key restriction, even one that does not exist', async () => {
    const { sim, api, control } = await start()
    await control('POST', '/projects/web')
    await control('POST', '/projects/ops')
    const key = sim.addKey({ project: 'web' })
    expect((await api('GET', '/web/tasks', { key })).status).toBe(200)
    expect((await api('GET', '/ops/tasks', { key })).status).toBe(403)
    expect((await api('GET', '/ghost/tasks', { key })).status).toBe(403)
    expect((await api('GET', '/ghost/tasks')).status).toBe(404)
  })
})

describe('Elean simulator: rate limit', () => {
  it('answers 429 with Retry-After until the oldest request leaves the 60 s window', async () => {
    const { api, control } = await start({ perMinute: 2 })
    await control('POST', '/projects/web')
    expect((await api('GET', '/web/statuses')).status).toBe(200)
    await control('POST', '/clock', { advanceMs: 20_000 })
    expect((await api('GET', '/web/statuses')).status).toBe(200)
    const limited = await api('GET', '/web/statuses')
    expect(limited.status).toBe(429)
    expect(limited.body.statusCode).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('40')
    await control('POST', '/clock', { advanceMs: 40_000 })
    expect((await api('GET', '/web/statuses')).status).toBe(200)
    const again = await api('GET', '/web/statuses')
    expect(again.status).toBe(429)
    expect(again.headers.get('retry-after')).toBe('20')
  })

  it('allows 60 requests a minute by default and refuses the 61st', async () => {
    const { api, control } = await start()
    await control('POST', '/projects/web')
    const statuses: number[] = []
    for (let i = 0; i < 61; i++) statuses.push((await api('GET', '/web/statuses')).status)
    expect(statuses.slice(0, 60).every((s) => s === 200)).toBe(true)
    expect(statuses[60]).toBe(429)
  })

  it('does not count requests with a bad key, and limits each key separately', async () => {
    const { sim, api, control } = await start({ perMinute: 2 })
    await control('POST', '/projects/web')
    for (let i = 0; i < 5; i++) expect((await api('GET', '/web/statuses', { key: `el_${'1'.repeat(40)}` })).status).toBe(401)
    expect((await api('GET', '/web/statuses')).status).toBe(200)
    expect((await api('GET', '/web/statuses')).status).toBe(200)
    expect((await api('GET', '/web/statuses')).status).toBe(429)
    expect((await api('GET', '/web/statuses', { key: sim.addKey({}) })).status).toBe(200)
  })

  it('never limits when perMinute is 0', async () => {
    const { api, control } = await start({ perMinute: 0 })
    await control('POST', '/projects/web')
    const statuses = await Promise.all(Array.from({ length: 80 }, () => api('GET', '/web/statuses')))
    expect(statuses.filter((r) => r.status !== 200)).toHaveLength(0)
  })
})

describe('Elean simulator: statuses and task lists', () => {
  it('lists the four default statuses with their categories, and 404s an unknown project', async () => {
    const { api, control } = await start()
    await control('POST', '/projects/web')
    const res = await api('GET', '/web/statuses')
    expect(res.body.map((s: any) => [s.name, s.category])).toEqual([
      ['To Do', 'todo'],
      ['In Progress', 'in_progress'],
      ['In Review', 'in_progress'],
      ['Done', 'done'],
    ])
    expect(Object.keys(res.body[0]).sort()).toEqual(['category', 'color', 'id', 'name'])
    const missing = await api('GET', '/nope/statuses')
    expect(missing.status).toBe(404)
    expect(missing.body.statusCode).toBe(404)
  })

  it('pages with a default limit of 20 and reports total, totalPages and hasMore', async () => {
    const { api, control } = await start()
    await control('POST', '/seed', { project: 'web', count: 45 })
    const first = await api('GET', '/web/tasks')
    expect(first.body.tasks).toHaveLength(20)
    expect(first.body.meta).toEqual({ total: 45, page: 1, limit: 20, totalPages: 3, hasMore: true })
    const last = await api('GET', '/web/tasks?page=3')
    expect(last.body.tasks).toHaveLength(5)
    expect(last.body.meta).toMatchObject({ page: 3, hasMore: false })
    expect((await api('GET', '/web/tasks?page=4')).body.tasks).toEqual([])
  })

  it('returns tasks in insertion order, with new tasks last', async () => {
    const { api, control } = await start()
    await control('POST', '/seed', { project: 'web', count: 5 })
    await api('POST', '/web/tasks', { body: { title: 'newest' } })
    const ids = (await api('GET', '/web/tasks?limit=100')).body.tasks.map((t: any) => t.externalId)
    expect(ids).toEqual(['WEB-1', 'WEB-2', 'WEB-3', 'WEB-4', 'WEB-5', 'WEB-6'])
  })

  it('refuses limit above 100, limit 0 and page 0 with 400 naming the parameter', async () => {
    const { api, control } = await start()
    await control('POST', '/projects/web')
    const over = await api('GET', '/web/tasks?limit=101')
    expect(over.status).toBe(400)
    expect(over.body.message).toMatch(/^limit/)
    expect((await api('GET', '/web/tasks?limit=0')).status).toBe(400)
    expect((await api('GET', '/web/tasks?page=0')).body.message).toMatch(/^page/)
    expect((await api('GET', '/web/tasks?status=open')).body.message).toMatch(/^status/)
    expect((await api('GET', '/web/tasks?priority=p1')).body.message).toMatch(/^priority/)
  })

  it('filters by status category, priority and statusId, statusId taking precedence over status', async () => {
    const { api, control } = await start()
    await control('POST', '/seed', { project: 'web', count: 200 })
    const all = (await control('GET', '/tasks/web')).body.tasks as any[]
    const statuses = (await api('GET', '/web/statuses')).body as any[]
    const inReview = statuses.find((s) => s.name === 'In Review')
    const byCategory = await api('GET', '/web/tasks?status=in_progress&limit=100')
    expect(byCategory.body.meta.total).toBe(all.filter((t) => t.category === 'in_progress').length)
    expect(byCategory.body.tasks.every((t: any) => t.category === 'in_progress')).toBe(true)
    const byPriority = await api('GET', '/web/tasks?priority=urgent&limit=100')
    expect(byPriority.body.meta.total).toBe(all.filter((t) => t.priority === 'urgent').length)
    const precedence = await api('GET', `/web/tasks?statusId=${inReview.id}&status=done&limit=100`)
    expect(precedence.body.meta.total).toBe(all.filter((t) => t.status.id === inReview.id).length)
    expect(precedence.body.meta.total).toBeGreaterThan(0)
    expect(precedence.body.tasks.every((t: any) => t.status.name === 'In Review')).toBe(true)
  })

  it('searches title and external id case-insensitively, not the description (as documented)', async () => {
    const { api, control } = await start()
    await control('POST', '/projects/web')
    await api('POST', '/web/tasks', { body: { title: 'Fix the LOGIN page' } })
    await api('POST', '/web/tasks', { body: { title: 'Other', description: 'about login timeouts' } })
    await api('POST', '/web/tasks', { body: { title: 'Unrelated' } })
    const res = await api('GET', '/web/tasks?search=Login')
    expect(res.body.tasks.map((t: any) => t.externalId)).toEqual(['WEB-1'])
    expect((await api('GET', '/web/tasks?search=web-3')).body.tasks.map((t: any) => t.title)).toEqual(['Unrelated'])
  })

  it('gets a task by UUID and by external id, and 404s an unknown one', async () => {
    const { api, control } = await start()
    await control('POST', '/seed', { project: 'web', count: 3 })
    const listed = (await api('GET', '/web/tasks')).body.tasks[1]
    const byUuid = await api('GET', `/web/tasks/${listed.id}`)
    expect(byUuid.body).toEqual(listed)
    expect((await api('GET', '/web/tasks/WEB-2')).body.id).toBe(listed.id)
    expect((await api('GET', '/web/tasks/web-2')).body.id).toBe(listed.id)
    const missing = await api('GET', '/web/tasks/WEB-99')
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({ statusCode: 404, message: 'Task WEB-99 not found' })
  })
})
