import { describe, expect, it } from 'vitest'
import { createStreamMemory, pickCommentTargets, rememberScan } from '../../src/connectors/elean/elean.comments.js'
import { needsStatusList, normalizeTask, statusLookup } from '../../src/connectors/elean/elean.normalize.js'
import { isLastPage, lastScanOf } from '../../src/connectors/elean/elean.read.js'
import { parseStatuses, parseTaskList } from '../../src/connectors/elean/elean.schemas.js'

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
    expect(() => parseTaskList({ tasks: [{ title: 'no id' }] }, 'GET web/tasks')).toThrow(/item 0.*without an id/)
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
  const tasks = (versions: string[]) => versions.map((v, i) => ({ id: `t${i}`, version: v }))

  it('reads changed tasks first, then the ones read longest ago, never more than the cap', () => {
    const memory = createStreamMemory()
    const scan1 = tasks(['a', 'a', 'a', 'a', 'a'])
    expect(pickCommentTargets(scan1, memory, 2, null)).toEqual(['t0', 't1'])
    memory.commentsRead.set('t0', 1).set('t1', 1)
    rememberScan(memory, scan1)
    // t3 changed; then never-read t2, t4
    expect(pickCommentTargets(tasks(['a', 'a', 'a', 'b', 'a']), memory, 3, null)).toEqual(['t3', 't2', 't4'])
    expect(pickCommentTargets(scan1, memory, 0, null)).toEqual([])
  })

  it('on a fresh process counts only tasks updated since the stored lastScanAt as changed', () => {
    const memory = createStreamMemory()
    const list = tasks(['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z'])
    const since = Date.parse('2026-01-15T00:00:00.000Z')
    expect(pickCommentTargets(list, memory, 1, since)).toEqual(['t1'])
    expect(lastScanOf({ lastScanAt: '2026-01-15T00:00:00.000Z' })).toBe(since)
    expect(lastScanOf({ lastScanAt: 'nonsense' })).toBeNull()
  })
})
