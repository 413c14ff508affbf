import { describe, expect, it } from 'vitest'
import { useEleanSim } from '../../support/sim-elean.js'

const start = useEleanSim()

describe('Elean simulator: seeding', () => {
  it('seeds the same tasks for the same seed and different ones for another seed', async () => {
    const dump = async (seed: number) => {
      const { control } = await start()
      await control('POST', '/seed', { project: 'web', count: 50, seed })
      return ((await control('GET', '/tasks/web')).body.tasks as any[]).map((t) => [t.id, t.title, t.priority, t.status.id, t.description])
    }
    const a = await dump(7)
    expect(await dump(7)).toEqual(a)
    expect(await dump(8)).not.toEqual(a)
  })

  it('varies statuses, priorities, assignees and descriptions across seeded tasks', async () => {
    const { control } = await start()
    const seeded = await control('POST', '/seed', { project: 'web', count: 300 })
    expect(seeded.body).toEqual({ project: 'web', created: 300, total: 300 })
    const tasks = (await control('GET', '/tasks/web')).body.tasks as any[]
    expect(new Set(tasks.map((t) => t.status.name)).size).toBe(4)
    expect(new Set(tasks.map((t) => t.priority)).size).toBe(5)
    expect(new Set(tasks.map((t) => t.assignees.length))).toEqual(new Set([0, 1, 2]))
    expect(tasks.some((t) => t.description === null) && tasks.some((t) => t.description !== null)).toBe(true)
    expect(tasks.every((t) => Date.parse(t.updatedAt) >= Date.parse(t.createdAt))).toBe(true)
  })

  it('continues external ids when a project is seeded twice, and refuses a bad count', async () => {
    const { api, control } = await start()
    await control('POST', '/seed', { project: 'web', count: 2 })
    await control('POST', '/seed', { project: 'web', count: 2 })
    const ids = (await api('GET', '/web/tasks')).body.tasks.map((t: any) => t.externalId)
    expect(ids).toEqual(['WEB-1', 'WEB-2', 'WEB-3', 'WEB-4'])
    expect((await control('POST', '/seed', { project: 'web', count: -1 })).status).toBe(400)
  })
})

describe('Elean simulator: human edits through control routes', () => {
  it('moves updatedAt on a human edit only when a value changes', async () => {
    const { api, control } = await start()
    await control('POST', '/projects/web')
    const created = (await api('POST', '/web/tasks', { body: { title: 'Same' } })).body
    const noop = await control('POST', '/tasks/web/WEB-1/edit', { fields: { title: 'Same' } })
    expect(noop.body.changed).toBe(false)
    expect(noop.body.task.updatedAt).toBe(created.updatedAt)
    const edit = await control('POST', '/tasks/web/WEB-1/edit', { fields: { title: 'Renamed', assignees: ['Jane Smith', 'New Person'] } })
    expect(edit.body.changed).toBe(true)
    expect(Date.parse(edit.body.task.updatedAt)).toBeGreaterThan(Date.parse(created.updatedAt))
    expect((await api('GET', '/web/tasks/WEB-1')).body.assignees.map((a: any) => a.name)).toEqual(['Jane Smith', 'New Person'])
    expect((await control('POST', '/tasks/web/WEB-1/edit', { fields: { priority: 'p0' } })).status).toBe(400)
  })

  it('keeps subtasks out of lists while they stay readable by id', async () => {
    const { api, control } = await start()
    await control('POST', '/seed', { project: 'web', count: 2 })
    const sub = await control('POST', '/tasks/web', { title: 'Child', parentId: 'WEB-1' })
    expect(sub.status).toBe(201)
    const parent = (await api('GET', '/web/tasks/WEB-1')).body
    expect(sub.body.parentId).toBe(parent.id)
    const list = await api('GET', '/web/tasks')
    expect(list.body.meta.total).toBe(2)
    expect(list.body.tasks.map((t: any) => t.externalId)).toEqual(['WEB-1', 'WEB-2'])
    expect((await api('GET', '/web/tasks/WEB-3')).body.title).toBe('Child')
    expect((await control('GET', '/tasks/web')).body.tasks).toHaveLength(3)
    await control('DELETE', '/tasks/web/WEB-1')
    expect((await api('GET', '/web/tasks/WEB-3')).status).toBe(404)
  })

  it('issues keys through POST /_sim/keys with scopes, project and expiry', async () => {
    const { api, control } = await start()
    await control('POST', '/projects/web')
    await control('POST', '/projects/ops')
    const { body } = await control('POST', '/keys', { scopes: ['task:read'], project: 'web', expiresInMs: 1000 })
    expect(body.key).toMatch(/^el_[0-9a-f]{40}$/)
    expect((await api('GET', '/web/tasks', { key: body.key })).status).toBe(200)
    expect((await api('GET', '/ops/tasks', { key: body.key })).status).toBe(403)
    await control('POST', '/clock', { advanceMs: 1000 })
    expect((await api('GET', '/web/tasks', { key: body.key })).status).toBe(401)
    expect((await control('POST', '/keys', { scopes: ['task:delete'] })).status).toBe(400)
  })
})

describe('Elean simulator: faults and stats', () => {
  it('shifts later pages when a drift fault inserts tasks at the head between page reads', async () => {
    const { api, control } = await start()
    await control('POST', '/seed', { project: 'web', count: 30 })
    const page1 = (await api('GET', '/web/tasks?limit=10')).body.tasks.map((t: any) => t.externalId)
    await control('POST', '/faults', { kind: 'drift', insert: 3 })
    const page2 = await api('GET', '/web/tasks?limit=10&page=2')
    expect(page2.body.meta.total).toBe(33)
    // Three new rows at the head push the tail of page 1 onto page 2: a client sees them twice.
    expect(page2.body.tasks.slice(0, 3).map((t: any) => t.externalId)).toEqual(page1.slice(7))
    expect((await api('GET', '/web/tasks?limit=10')).body.tasks.slice(0, 3).map((t: any) => t.externalId)).toEqual(['WEB-33', 'WEB-32', 'WEB-31'])
  })

  it('skips rows on the next page when a drift fault deletes tasks at the head', async () => {
    const { api, control } = await start()
    await control('POST', '/seed', { project: 'web', count: 30 })
    await api('GET', '/web/tasks?limit=10')
    await control('POST', '/faults', { kind: 'drift', delete: 2, route: '/v1/public/web/tasks' })
    const page2 = await api('GET', '/web/tasks?limit=10&page=2')
    expect(page2.body.meta.total).toBe(28)
    expect(page2.body.tasks[0].externalId).toBe('WEB-13')
    expect((await api('GET', '/web/tasks/WEB-1')).status).toBe(404)
  })

  it('counts public requests by route and status in /_sim/stats, leaving control routes out', async () => {
    const { api, control } = await start({ perMinute: 3 })
    await control('POST', '/seed', { project: 'web', count: 5 })
    await control('POST', '/stats/reset')
    await api('GET', '/web/tasks')
    await api('GET', '/web/tasks')
    await api('GET', '/web/tasks/WEB-9')
    await api('GET', '/web/tasks')
    await api('GET', '/web/tasks', { key: null })
    const stats = (await control('GET', '/stats')).body
    expect(stats.total).toBe(5)
    expect(stats.byRoute['GET /v1/public/:project/tasks']).toEqual({ '200': 2, '429': 1, '401': 1 })
    expect(stats.byRoute['GET /v1/public/:project/tasks/:taskId']).toEqual({ '404': 1 })
  })
})
