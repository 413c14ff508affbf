import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { eleanConnectionSchema } from '../../src/connectors/elean/index.js'
import { planComments } from '../../src/connectors/elean/elean.comments.js'
import { createElean, type EleanOptions } from '../../src/connectors/elean/index.js'
import { needsStatusList, normalizeTask, statusLookup } from '../../src/connectors/elean/elean.normalize.js'
import { isLastPage } from '../../src/connectors/elean/elean.read.js'
import { parseStatuses, parseTaskList } from '../../src/connectors/elean/elean.schemas.js'
import { ID_COLLISION } from '../../src/connectors/shared/tolerant.js'
import type { Page } from '../../src/engine/types.js'
import type { HttpClient, HttpRequest } from '../../src/http/client.js'
import { createLogger } from '../../src/logger.js'

const task = {
  id: '018e1b2c-3d4e-5f6a-7b8c-9d0e1f2a3b4c',
  externalId: 'PROJ-42',
  title: 'Fix login bug',
  description: null,
  category: 'in_progress',
  status: { id: 's2', name: 'In Review', color: '#f59e0b', category: 'in_progress' },
  priority: 'high',
  dueDate: '2026-03-15T00:00:00.000Z',
  assignees: [{ id: 'u9', name: 'Jane Smith' }],
  attachments: [{ id: 'a1', filename: 'screenshot.png' }],
  createdAt: '2026-03-01T12:00:00.000Z',
  updatedAt: '2026-03-02T09:30:00.000Z',
}

describe('Elean payloads', () => {
  it('reads the task list under tasks, data or as a bare array, with or without meta', () => {
    const meta = { total: 1, page: 1, limit: 100, totalPages: 1, hasMore: false }
    expect(parseTaskList({ tasks: [task], meta }, 'x')).toMatchObject({ tasks: [{ id: task.id }], meta: { total: 1, hasMore: false } })
    expect(parseTaskList({ data: [task] }, 'x').tasks).toHaveLength(1)
    expect(parseTaskList([task], 'x').meta).toEqual({ total: null, totalPages: null, limit: null, hasMore: null })
  })

  it('quarantines a task without an id and tasks whose ids collide, counting every listed item', () => {
    const body = { tasks: [task, { title: 'no id' }, { id: 7, title: 'seven' }, { id: '7', title: 'seven again' }, task] }
    const page = parseTaskList(body, 'GET web/tasks page 3')
    // the same task twice is not a collision: the scan's drift check sees it
    expect(page.tasks.map((t) => t.id)).toEqual([task.id, task.id])
    expect(page.listed).toBe(5)
    expect(page.quarantined).toEqual([
      { remoteId: null, reason: 'task: item without an id (looked for id)', excerpt: '{"title":"no id"}' },
      { remoteId: '7', reason: ID_COLLISION, excerpt: '{"id":7,"title":"seven"}\n{"id":"7","title":"seven again"}' },
    ])
  })

  it('reads statuses as a bare array or under data/statuses', () => {
    const s = [{ id: 's1', name: 'To Do', category: 'todo' }]
    for (const body of [s, { data: s }, { statuses: s }]) expect(parseStatuses(body, 'x')).toEqual([{ id: 's1', name: 'To Do', category: 'todo' }])
  })

  it('ends paging on hasMore, else totalPages, else a short page', () => {
    const page = (n: number, meta: Partial<{ hasMore: boolean; totalPages: number }>) => ({
      tasks: Array.from({ length: n }, (_, i) => ({ id: String(i) })),
      meta: { total: null, limit: null, hasMore: meta.hasMore ?? null, totalPages: meta.totalPages ?? null },
    })
    expect(isLastPage(page(40, { hasMore: true }), 1)).toBe(false) // a server that caps limit lower still says hasMore
    expect(isLastPage(page(100, { hasMore: false }), 3)).toBe(true)
    expect(isLastPage(page(100, { totalPages: 3 }), 3)).toBe(true)
    expect(isLastPage(page(100, {}), 3)).toBe(false)
    expect(isLastPage(page(99, {}), 3)).toBe(true)
    expect(isLastPage(page(0, { hasMore: true }), 3)).toBe(true)
  })

  it('counts quarantined items when it judges a short or empty page', () => {
    const meta = { total: null, limit: null, hasMore: null, totalPages: null }
    const bad = Array.from({ length: 100 }, () => ({ remoteId: null, reason: 'task: item without an id (looked for id)' }))
    expect(isLastPage({ tasks: [], meta, listed: 100, quarantined: bad }, 1)).toBe(false)
    expect(isLastPage({ tasks: [{ id: 'a' }], meta, listed: 100, quarantined: bad.slice(1) }, 1)).toBe(false)
    expect(isLastPage({ tasks: [], meta, listed: 0, quarantined: [] }, 1)).toBe(true)
  })
})

describe('Elean connection config', () => {
  it('takes an optional commentsPerScan between 0 and 10 000', () => {
    const base = { kind: 'elean', baseUrl: 'https://api.elean.app/v1/public', auth: { mode: 'bearer', token: 'el_test' } }
    expect(eleanConnectionSchema.parse(base).commentsPerScan).toBeUndefined()
    expect(eleanConnectionSchema.parse({ ...base, commentsPerScan: 0 }).commentsPerScan).toBe(0)
    expect(eleanConnectionSchema.parse({ ...base, commentsPerScan: 10_000 }).commentsPerScan).toBe(10_000)
    for (const bad of [-1, 10_001, 2.5, '20']) expect(eleanConnectionSchema.safeParse({ ...base, commentsPerScan: bad }).success).toBe(false)
  })
})

describe('Elean normalization', () => {
  it('maps a task to the common record, keeping the other fields and the document', () => {
    const r = normalizeTask(task, null)
    expect(r).toMatchObject({
      remoteId: task.id,
      externalKey: 'PROJ-42',
      title: 'Fix login bug',
      status: 'In Review',
      statusCategory: 'in_progress',
      priority: 'high',
      dueAt: task.dueDate,
      assignees: [{ id: 'u9', name: 'Jane Smith' }],
      remoteCreatedAt: task.createdAt,
      remoteUpdatedAt: task.updatedAt,
      document: task,
    })
    expect(r.fields).toEqual({ attachments: task.attachments })
  })

  it('takes the category from the status list when the task does not carry one', () => {
    const bare = { id: 't1', status: { id: 's4' } }
    expect(needsStatusList(bare)).toBe(true)
    expect(needsStatusList(task)).toBe(false)
    const lookup = statusLookup([{ id: 's4', name: 'Done', category: 'done' }])
    expect(normalizeTask(bare, lookup)).toMatchObject({ status: 'Done', statusCategory: 'done' })
    expect(normalizeTask({ id: 't2', status: null, category: 'todo' }, null)).toMatchObject({ status: null, statusCategory: 'todo' })
  })
})

describe('Elean comment reads per scan', () => {
  const tasks = (n: number) => Array.from({ length: n }, (_, i) => ({ remoteId: `t${i}`, remoteUpdatedAt: '2026-01-01T00:00:00.000Z' }))

  it('reads only the tasks the mirror says are behind, page by page in list order, never more than the cap', async () => {
    const list = tasks(9)
    const asked: string[][] = []
    const behind = async (ts: readonly { remoteId: string }[]) => {
      asked.push(ts.map((t) => t.remoteId))
      return new Set(['t1', 't4', 't5', 't7'])
    }
    const plan = planComments(2, behind)
    const picked = [await plan.pick(list.slice(0, 3)), await plan.pick(list.slice(3, 6)), await plan.pick(list.slice(6))]
    // t7 is left for a later scan: the mirror still says it is behind then
    expect(picked).toEqual([['t1'], ['t4'], []])
    expect(plan.picked).toBe(2)
    // once the cap is spent the mirror is not asked again
    expect(asked).toEqual([
      ['t0', 't1', 't2'],
      ['t3', 't4', 't5'],
    ])
  })

  it('never picks a task twice in one scan (a listing re-read from page 1), and reads none with a cap of 0', async () => {
    const plan = planComments(5, async (ts) => new Set(ts.map((t) => t.remoteId)))
    expect(await plan.pick(tasks(3))).toEqual(['t0', 't1', 't2'])
    expect(await plan.pick(tasks(4))).toEqual(['t3'])
    const none = planComments(0, async () => {
      throw new Error('not asked')
    })
    expect(await none.pick(tasks(3))).toEqual([])
  })

  it('without a mirror to ask, counts every listed task as changed', async () => {
    expect(await planComments(2).pick(tasks(3))).toEqual(['t0', 't1'])
  })
})

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) })
const ctx = () => ({ mode: 'full' as const, signal: AbortSignal.timeout(5_000), startedAt: new Date('2026-03-01T00:00:00.000Z'), lookbackMs: 0 })
const LIST_ROUTE = 'GET /{project}/tasks'
const COMMENTS_ROUTE = 'GET /{project}/tasks/{taskId}/comments'

interface FakeTask {
  id: string
  title: string
  status: { id: string; name: string; category: 'todo' }
  updatedAt: string
}
const fakeTask = (n: number): FakeTask => ({
  id: `t${n}`,
  title: `Task ${n}`,
  status: { id: 's1', name: 'To Do', category: 'todo' },
  updatedAt: '2026-01-01T00:00:00.000Z',
})

/**
 * A fake Elean behind an HttpClient: `tasks` is the project's list in list order, paged
 * by offset as the real API does; `beforeList(n)` runs before the n-th list request
 * (drift). Every request and every page the test consumes goes to one event log.
 */
function fakeElean(count: number, o: { beforeList?: (n: number, tasks: FakeTask[]) => void; list?: (page: number, tasks: FakeTask[]) => FakeTask[] } = {}) {
  const tasks = Array.from({ length: count }, (_, i) => fakeTask(i))
  const events: string[] = []
  let lists = 0
  let requests = 0
  const answer = (req: HttpRequest): unknown => {
    if (req.route === LIST_ROUTE) {
      const page = Number(req.searchParams?.page)
      expect(req.searchParams?.limit).toBe(100)
      o.beforeList?.(++lists, tasks)
      events.push(`list ${page}`)
      const rows = o.list ? o.list(page, tasks) : tasks.slice((page - 1) * 100, page * 100)
      return { tasks: rows, meta: { total: tasks.length, page, limit: 100, totalPages: Math.ceil(tasks.length / 100), hasMore: page * 100 < tasks.length } }
    }
    if (req.route === COMMENTS_ROUTE) {
      const id = decodeURIComponent(req.path.split('/')[2] ?? '')
      events.push(`comments ${id}`)
      return [{ id: `c-${id}`, content: `on ${id}`, authorName: 'Jane', createdAt: '2026-01-01T00:00:00.000Z' }]
    }
    throw new Error(`unexpected ${req.route}`)
  }
  const http: HttpClient = {
    name: 'fake',
    baseUrl: 'https://api.elean.app/v1/public/',
    request: async <T>(req: HttpRequest) => (requests++, { status: 200, headers: {}, body: answer(req) as T, requestId: undefined }),
    stats: () => ({ requests, budgetLeft: null, budgetPerMinute: null, skewMs: 0 }),
  }
  const config = eleanConnectionSchema.parse({
    kind: 'elean',
    baseUrl: 'https://api.elean.app/v1/public',
    auth: { mode: 'bearer', token: 'el_test' },
    streams: { web: { project: 'web' } },
  })
  const connector = (options: EleanOptions = {}) => createElean({ name: 'elean', config, http, logger: silent }, options)
  return { tasks, events, connector }
}

/** Reads one scan to its end, logging each page as it is consumed; the error, if any, is returned. */
async function consume(read: AsyncIterable<Page>, events: string[]) {
  const pages: Page[] = []
  try {
    for await (const page of read) {
      pages.push(page)
      events.push(`page ${pages.length}${page.restartScan ? ' (restart)' : ''}${page.cursor !== undefined ? ' (cursor)' : ''}`)
    }
    return { pages, error: null }
  } catch (error) {
    return { pages, error: error as Error & { code?: string } }
  }
}
const ids = (p: Page | undefined) => p?.records.map((r) => r.remoteId) ?? []
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `t${from + i}`)

describe('Elean reading is streamed', () => {
  it('yields each page before it requests the next, with the comments picked among that page’s tasks', async () => {
    const fake = fakeElean(250)
    const connector = fake.connector({ commentsPerScan: 2 })
    const read = connector.read('web', null, ctx())[Symbol.asyncIterator]()
    const first = await read.next()
    // only page 1 (and its comments) was requested when page 1 arrived
    expect(fake.events).toEqual(['list 1', 'comments t0', 'comments t1'])
    expect(ids(first.value as Page)).toEqual(range(0, 100))
    expect((first.value as Page).comments).toMatchObject({ parents: ['t0', 't1'], items: [{ parentRemoteId: 't0' }, { parentRemoteId: 't1' }] })
    await read.return?.(undefined)

    // a scan abandoned midway leaves no memory: the next one starts over
    fake.events.length = 0
    const { pages, error } = await consume(connector.read('web', null, ctx()), fake.events)
    expect(error).toBeNull()
    expect(fake.events).toEqual(['list 1', 'comments t0', 'comments t1', 'page 1', 'list 2', 'page 2', 'list 3', 'page 3 (cursor)'])
    expect(pages.map(ids)).toEqual([range(0, 100), range(100, 200), range(200, 250)])
    expect(pages[2]?.cursor).toEqual({ lastScanAt: '2026-03-01T00:00:00.000Z' })
  })

  it('on drift starts over from page 1, marking the re-read’s first page restartScan', async () => {
    // before the 2nd list request: 3 tasks vanish at the head, one appears there
    const fake = fakeElean(250, { beforeList: (n, tasks) => n === 2 && tasks.splice(0, 3, fakeTask(900)) })
    const { pages, error } = await consume(fake.connector({ commentsPerScan: 0 }).read('web', null, ctx()), fake.events)
    expect(error).toBeNull()
    // page 2 of the first pass showed the drift (total 250 → 248): it is not yielded
    expect(fake.events).toEqual(['list 1', 'page 1', 'list 2', 'list 1', 'page 2 (restart)', 'list 2', 'page 3', 'list 3', 'page 4 (cursor)'])
    expect(ids(pages[0])).toEqual(range(0, 100))
    // the re-read alone lists the project exactly once
    const reread = pages.slice(1).flatMap(ids)
    expect(reread).toEqual(fake.tasks.map((t) => t.id))
    expect(new Set(reread).size).toBe(248)
  })

  it('within a pass yields a task listed twice again, and fails with paging_drift when the re-read drifts too', async () => {
    // page 2 starts one row early: t99 is listed on pages 1 and 2, t149 on none
    const list = (page: number, tasks: FakeTask[]) => tasks.slice(page === 1 ? 0 : 99, page === 1 ? 100 : 149)
    const fake = fakeElean(150, {
      list,
      // t99 is edited just before the re-read's page 2
      beforeList: (n, tasks) => n === 4 && Object.assign(tasks[99]!, { title: 'edited', updatedAt: '2026-02-01T00:00:00.000Z' }),
    })
    const { pages, error } = await consume(fake.connector({ commentsPerScan: 0 }).read('web', null, ctx()), fake.events)
    expect(error).toMatchObject({ code: 'paging_drift', message: expect.stringMatching(/task t99 listed twice \(page 2\)/) })
    expect(fake.events).toEqual(['list 1', 'page 1', 'list 2', 'list 1', 'page 2 (restart)', 'list 2', 'page 3'])
    expect(ids(pages[2])).toEqual(range(99, 149))
    expect(pages[2]?.records[0]).toMatchObject({ remoteId: 't99', title: 'edited' })
    // no page of a drifting scan carries the cursor
    expect(pages.every((p) => p.cursor === undefined)).toBe(true)

    // unchanged, the repeated task is yielded again all the same: the mirror's content hash skips it
    const same = fakeElean(150, { list })
    const again = await consume(same.connector({ commentsPerScan: 0 }).read('web', null, ctx()), same.events)
    expect(again.error).toMatchObject({ code: 'paging_drift' })
    expect(ids(again.pages[2])).toEqual(range(99, 149))
  })

  it('quarantines bad tasks with their page and reads the rest of the project, a 5 000-deep task without updatedAt too', async () => {
    const bad = [{ title: 'no id' }, { id: 7, title: 'seven' }, { id: '7', title: 'seven again' }] as unknown as FakeTask[]
    let tree: unknown = []
    for (let i = 0; i < 5_000; i++) tree = [tree]
    const deep = { id: 'deep', title: 'Deep', tree } as unknown as FakeTask
    const fake = fakeElean(150, { list: (page, tasks) => [...tasks.slice((page - 1) * 100, page * 100), ...(page === 1 ? bad : [deep])] })
    const { pages, error } = await consume(fake.connector({ commentsPerScan: 0 }).read('web', null, ctx()), fake.events)
    expect(error).toBeNull()
    expect(pages.map(ids)).toEqual([range(0, 100), [...range(100, 150), 'deep']])
    expect(pages[0]?.quarantined?.map((q) => q.remoteId)).toEqual([null, '7'])
    expect(pages[1]?.quarantined).toBeUndefined()
    expect(pages[1]?.cursor).toBeDefined()
  })

  it('keeps comment reads inside the cap across a restart, never reading a task twice in one scan', async () => {
    const fake = fakeElean(150, { beforeList: (n, tasks) => n === 2 && tasks.splice(0, 1) })
    const { pages, error } = await consume(fake.connector({ commentsPerScan: 3 }).read('web', null, ctx()), fake.events)
    expect(error).toBeNull()
    // t0..t2 read with the first pass's page 1; t0 is gone, t1 and t2 are not read again
    expect(fake.events.filter((e) => e.startsWith('comments'))).toEqual(['comments t0', 'comments t1', 'comments t2'])
    expect(pages[0]?.comments?.parents).toEqual(['t0', 't1', 't2'])
    expect(pages.slice(1).every((p) => p.comments === undefined)).toBe(true)
  })
})
