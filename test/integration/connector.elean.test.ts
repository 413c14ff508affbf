import { afterEach, describe, expect, it } from 'vitest'
import type { EleanConnection } from '../../src/connectors/elean/index.js'
import { eleanConnectionSchema } from '../../src/connectors/elean/elean.config.js'
import { createElean, eleanModule, type EleanOptions } from '../../src/connectors/elean/index.js'
import { createPgMirror } from '../../src/db/mirror.store.js'
import { runStream } from '../../src/engine/poll.js'
import type { StreamRef } from '../../src/engine/types.js'
import { createHttpClient } from '../../src/http/client.js'
import { startElean, type StartedElean } from '../../src/sim/elean/index.js'
import { createTestDb } from '../support/db.js'
import { captureLogs } from '../support/logs.js'

const db = await createTestDb()
const { sql } = db
const mirror = createPgMirror(sql)
const LIST = 'GET /v1/public/:project/tasks'
const COMMENTS = 'GET /v1/public/:project/tasks/:taskId/comments'
const STATUSES = 'GET /v1/public/:project/statuses'

const sims: StartedElean[] = []
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()))
})

let n = 0
/** A simulator with project `web`, and a connector on it mirroring into a connection of its own. */
async function harness(o: { count: number; options?: EleanOptions; childBudget?: number; perMinute?: number }) {
  const sim = await startElean({ port: 0, perMinute: 0 })
  sims.push(sim)
  const control = async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(`${sim.server.url}/_sim${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    const text = await res.text()
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`)
    return text ? JSON.parse(text) : undefined
  }
  await control('POST', '/seed', { project: 'web', count: o.count })
  const stream: StreamRef = { connection: `elean-${++n}`, stream: 'web' }
  // the config schema's own defaults, as connections.yaml would give them
  const config: EleanConnection = eleanConnectionSchema.parse({
    kind: 'elean',
    baseUrl: sim.baseUrl,
    auth: { mode: 'bearer', token: sim.credentials.apiKey as string },
    deleteAfterMissedScans: 1,
    streams: { web: { project: 'web' } },
  })
  const logs = captureLogs()
  const http = createHttpClient(
    { name: stream.connection, baseUrl: config.baseUrl, auth: config.auth, timeoutMs: 5000, ...(o.perMinute ? { rateLimit: { perMinute: o.perMinute } } : {}) },
    { logger: logs.logger, redactor: logs.redactor, retry: { attempts: 3, baseMs: 10, maxMs: 50 } },
  )
  const connect = () => createElean({ name: stream.connection, config, http, logger: logs.logger }, o.options)
  let connector = connect()
  /** A new connector, as a new process starts with: nothing of the last scans in memory. */
  const restart = () => {
    connector = connect()
  }
  // the child round-robin takes the kind's default budget, as `elsync sync` gives it
  const run = (childBudget = o.childBudget ?? eleanModule.defaults.childBudget ?? 0) =>
    runStream(mirror, { stream, connector, mode: 'full', signal: AbortSignal.timeout(30_000), lookbackMs: 0, maxDeleteFraction: 0.1, childBudget })
  const dump = async () => {
    const d = await control('GET', '/tasks/web')
    return (d.tasks as any[]).filter((t) => t.parentId === null) as { id: string; externalId: string; title: string; priority: string; updatedAt: string }[]
  }
  const live = () => sql<{ remote_id: string; title: string }[]>`
    select remote_id, title from elsync.records_current where connection = ${stream.connection} and stream = 'web' order by remote_id`
  const calls = async (route: string) => {
    const s = (await control('GET', '/stats')) as { byRoute: Record<string, Record<string, number>> }
    return Object.values(s.byRoute[route] ?? {}).reduce((a, b) => a + b, 0)
  }
  return { sim, control, stream, run, restart, dump, live, calls, logs }
}

const sorted = (rows: { id: string; title: string }[]) => rows.map((r) => `${r.id} ${r.title}`).sort()

describe('Elean connector: full scans', () => {
  it('mirrors every task, then rescans an unchanged project with ⌈N/100⌉ list calls and writes nothing', async () => {
    const N = 250
    const h = await harness({ count: N })
    const first = await h.run()
    expect(first).toMatchObject({ status: 'succeeded', seen: N, changed: N, deleted: 0 })
    expect(sorted((await h.live()).map((r) => ({ id: r.remote_id, title: r.title })))).toEqual(sorted(await h.dump()))
    const row = (await sql`select * from elsync.records_current where connection = ${h.stream.connection} limit 1`)[0]
    expect(row).toMatchObject({
      status: expect.any(String),
      status_category: expect.stringMatching(/^(todo|in_progress|done)$/),
      external_key: expect.stringMatching(/^WEB-\d+$/),
    })

    const xmins = () => sql`select remote_id, xmin::text as x from elsync.records where connection = ${h.stream.connection} order by remote_id`
    const changes = async () => (await sql`select count(*)::int as c from elsync.record_changes where connection = ${h.stream.connection}`)[0]?.c
    const before = { rows: await xmins(), changes: await changes() }
    await h.control('POST', '/stats/reset')

    const second = await h.run()
    expect(second).toMatchObject({ status: 'succeeded', seen: N, changed: 0, deleted: 0 })
    expect(await xmins()).toEqual(before.rows)
    expect(await changes()).toBe(before.changes)
    expect(await h.calls(LIST)).toBe(Math.ceil(N / 100))
    // no task changed, so none is read with the pages; the round-robin reads the default budget of
    // 20 tasks' comments (those read longest ago); statuses are never needed here
    expect(await h.calls(COMMENTS)).toBe(20)
    expect(await h.calls(STATUSES)).toBe(0)
    expect(second.requests).toBe(Math.ceil(N / 100) + 20)
    // and without a round-robin, a quiet scan is its list calls alone
    await h.control('POST', '/stats/reset')
    expect((await h.run(0)).requests).toBe(Math.ceil(N / 100))
    expect(await h.calls(COMMENTS)).toBe(0)
  })

  it('records human edits as updates with history, a new task as an insert and a removed task as a delete', async () => {
    const h = await harness({ count: 30, options: { commentsPerScan: 3 } })
    await h.run()
    const tasks = await h.dump()
    const edited = tasks[4]!
    const removed = tasks[7]!
    const priority = edited.priority === 'urgent' ? 'low' : 'urgent'
    await h.control('POST', `/tasks/web/${edited.id}/edit`, { title: 'Renamed by a human', priority })
    await h.control('POST', `/tasks/web/${edited.id}/comments`, { content: 'Looks good to me', authorName: 'Mei Tanaka' })
    const created = await h.control('POST', '/tasks/web', { title: 'Brand new task' })
    await h.control('DELETE', `/tasks/web/${removed.id}`)

    const r = await h.run()
    expect(r).toMatchObject({ status: 'succeeded', deleted: 1 })
    const history = await sql<{ remote_id: string; version: number; op: string; changed: any }[]>`
      select remote_id, version, op, changed from elsync.record_history
      where connection = ${h.stream.connection} and remote_id in ${sql([edited.id, removed.id, created.id])} order by remote_id, version`
    const of = (id: string) => history.filter((x) => x.remote_id === id)
    expect(of(edited.id).map((x) => x.op)).toEqual(['insert', 'update'])
    expect(of(edited.id)[1]?.changed.title).toEqual({ old: edited.title, new: 'Renamed by a human' })
    expect(of(edited.id)[1]?.changed.priority).toEqual({ old: edited.priority, new: priority })
    expect(of(created.id).map((x) => x.op)).toEqual(['insert'])
    expect(of(removed.id).map((x) => x.op)).toEqual(['insert', 'delete'])
    expect((await h.live()).map((x) => x.remote_id)).not.toContain(removed.id)
    // the edited task's comments are read first, on the very next scan
    const comments = await sql`select body, author from elsync.comments where connection = ${h.stream.connection} and remote_id = ${edited.id}`
    expect(comments).toEqual([{ body: 'Looks good to me', author: 'Mei Tanaka' }])
  })

  it('finds a comment on an unchanged task within ⌈N / childBudget⌉ scans, never over the budget', async () => {
    const h = await harness({ count: 12, options: { commentsPerScan: 3 }, childBudget: 3 })
    await h.run()
    const quiet = (await h.dump())[10]!
    await h.control('POST', `/tasks/web/${quiet.id}/comments`, { content: 'No one bumped updatedAt' })
    const found = async () => (await sql`select 1 from elsync.comments where connection = ${h.stream.connection} and remote_id = ${quiet.id}`).length > 0
    let scans = 0
    while (!(await found()) && scans < 12 / 3) {
      await h.control('POST', '/stats/reset')
      await h.run()
      scans += 1
      expect(await h.calls(COMMENTS)).toBeLessThanOrEqual(3)
    }
    expect(await found()).toBe(true)
    expect((await h.dump()).find((t) => t.id === quiet.id)?.updatedAt).toBe(quiet.updatedAt)
  })
})

describe('Elean connector: the child round-robin under a rate budget', () => {
  it('reads only what the budget can spare beyond half a minute of requests, never queueing behind it', async () => {
    // 40 a minute: 20 are kept for polls and writes
    const h = await harness({ count: 30, options: { commentsPerScan: 0 }, childBudget: 25, perMinute: 40 })
    await h.run()
    // 1 list request, then 39 left: 19 to spare
    expect(await h.calls(LIST)).toBe(1)
    expect(await h.calls(COMMENTS)).toBe(19)
    // the next poll finds 20 left, none to spare: its list request does not wait for the window
    await h.control('POST', '/stats/reset')
    const quiet = await h.run()
    expect(quiet.requests).toBe(1)
    expect(await h.calls(COMMENTS)).toBe(0)
  })
})

describe('Elean connector: comments of changed tasks', () => {
  it('reads, on a new process’s first scan, the comments of a changed task that the last scan’s budget left unread', async () => {
    const h = await harness({ count: 30, options: { commentsPerScan: 2 }, childBudget: 0 })
    await h.run()
    const tasks = await h.dump()
    const edited = [tasks[10]!, tasks[11]!, tasks[12]!]
    for (const t of edited) {
      await h.control('POST', `/tasks/web/${t.id}/comments`, { content: `Note on ${t.id}` })
      await h.control('POST', `/tasks/web/${t.id}/edit`, { title: `Edited ${t.id}` })
    }
    const read = async () =>
      (
        await sql<
          { remote_id: string }[]
        >`select distinct remote_id from elsync.comments where connection = ${h.stream.connection} and remote_id in ${sql(edited.map((t) => t.id))} order by remote_id`
      ).map((r) => r.remote_id)
    // the budget covers two of the three changed tasks
    await h.control('POST', '/stats/reset')
    await h.run()
    expect(await h.calls(COMMENTS)).toBe(2)
    expect(await read()).toHaveLength(2)
    // the process stops; the next one knows from the mirror which task is still owed its comments
    h.restart()
    await h.control('POST', '/stats/reset')
    await h.run()
    expect(await h.calls(COMMENTS)).toBe(1)
    expect(await read()).toEqual(edited.map((t) => t.id).sort())
    // and then nothing is owed
    await h.control('POST', '/stats/reset')
    await h.run()
    expect(await h.calls(COMMENTS)).toBe(0)
  })
})

describe('Elean connector: paging drift', () => {
  it('re-reads from page 1 when the list shifts between pages, so the mirror equals the project exactly', async () => {
    const h = await harness({ count: 250, options: { commentsPerScan: 0 } })
    await h.run()
    await h.control('POST', '/stats/reset')
    // before each of the next two list requests: 6 tasks vanish at the head, 4 appear there
    await h.control('POST', '/faults', { kind: 'drift', count: 2, insert: 4, delete: 6, route: '/v1/public/web/tasks' })
    const before = new Set((await h.live()).map((x) => x.remote_id))
    const r = await h.run()
    expect(r.status).toBe('succeeded')
    // the first pass yielded page 1 and stopped at page 2 (total moved from 248 to 246); the re-read read all 3 pages
    expect(await h.calls(LIST)).toBe(5)
    expect(r.pages).toBe(4)
    const sim = await h.dump()
    expect(sim).toHaveLength(246)
    expect(sorted((await h.live()).map((x) => ({ id: x.remote_id, title: x.title })))).toEqual(sorted(sim))
    // 8 seeded tasks were deleted; so were the 4 the first drift inserted, which the first pass had saved
    const history = await sql<{ remote_id: string; op: string }[]>`
      select remote_id, op from elsync.record_history where connection = ${h.stream.connection} order by remote_id, version`
    const opsOf = (id: string) => history.filter((x) => x.remote_id === id).map((x) => x.op)
    const deleted = [...new Set(history.filter((x) => x.op === 'delete').map((x) => x.remote_id))]
    expect(deleted.filter((id) => before.has(id))).toHaveLength(8)
    expect(deleted).toHaveLength(12)
    expect(r.deleted).toBe(12)
    for (const id of deleted) expect(opsOf(id)).toEqual(['insert', 'delete'])
    // tasks that merely moved between pages keep one insert: no delete, no restore
    expect(history.filter((x) => x.op === 'restore')).toEqual([])
    for (const t of sim) expect(opsOf(t.id)).toEqual(['insert'])
  })

  it('saves what it read but infers no deletion when the list never stops shifting', async () => {
    const h = await harness({ count: 250, options: { commentsPerScan: 0 } })
    await h.run()
    await h.control('POST', '/faults', { kind: 'drift', count: 100, insert: 2, delete: 3, route: '/v1/public/web/tasks' })
    const r = await h.run()
    expect(r).toMatchObject({ status: 'failed', deleted: 0, error: { code: 'paging_drift' } })
    const deletes = await sql`select 1 from elsync.record_history where connection = ${h.stream.connection} and op = 'delete'`
    expect(deletes).toHaveLength(0)
    // inserted tasks the passes saw are saved all the same
    expect(r.changed).toBeGreaterThan(0)
    await h.control('DELETE', '/faults')
    const again = await h.run()
    expect(again.status).toBe('succeeded')
    expect(sorted((await h.live()).map((x) => ({ id: x.remote_id, title: x.title })))).toEqual(sorted(await h.dump()))
  })
})
