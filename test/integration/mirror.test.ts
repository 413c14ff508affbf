import { beforeEach, describe, expect, it } from 'vitest'
import { createPgMirror } from '../../src/db/mirror.store.js'
import { MassDeleteRefusedError } from '../../src/engine/errors.js'
import { diffSnapshots, type Snapshot } from '../../src/engine/record.js'
import type { RemoteRecord, StreamRef } from '../../src/engine/types.js'
import { createTestDb } from '../support/db.js'

const db = await createTestDb()
const { sql } = db
const mirror = createPgMirror(sql)
let n = 0
const freshStream = (): StreamRef => ({ connection: 'elean', stream: `web-${++n}` })

const task = (id: string, over: Partial<RemoteRecord> = {}): RemoteRecord => ({
  remoteId: id,
  externalKey: `WEB-${id}`,
  title: `Task ${id}`,
  status: 'To Do',
  statusCategory: 'todo',
  priority: 'medium',
  dueAt: '2026-12-01T00:00:00.000Z',
  description: null,
  assignees: [{ id: 'u1', name: 'Jane Smith' }],
  fields: { color: 'blue' },
  remoteUpdatedAt: '2026-11-20T10:00:00.000Z',
  document: { id, title: `Task ${id}` },
  ...over,
})

const xmins = async (s: StreamRef) =>
  sql`select remote_id, xmin::text as x from elsync.records where connection = ${s.connection} and stream = ${s.stream} order by remote_id`
const history = async (s: StreamRef) =>
  sql`select remote_id, version, op, changed, source from elsync.record_history
      where connection = ${s.connection} and stream = ${s.stream} order by remote_id, version`
const stateRow = async (s: StreamRef) =>
  sql`select cursor, xmin::text as x from elsync.stream_state where connection = ${s.connection} and stream = ${s.stream}`

describe('applyPage', () => {
  let s: StreamRef
  beforeEach(() => {
    s = freshStream()
  })

  it('inserts new records with version 1 and an insert history row listing every field', async () => {
    const r = await mirror.applyPage(s, { records: [task('a'), task('b')], cursor: { page: 1 } })
    expect(r).toMatchObject({ seen: 2, inserted: 2, changes: 2 })
    const rows = await sql`select remote_id, title, status_category, due_at, version from elsync.records_current
      where connection = ${s.connection} and stream = ${s.stream} order by remote_id`
    expect(rows.map((x) => [x.remote_id, x.title, x.version])).toEqual([
      ['a', 'Task a', 1],
      ['b', 'Task b', 1],
    ])
    const h = await history(s)
    expect(h[0]).toMatchObject({ op: 'insert', version: 1, source: 'poll' })
    expect(h[0]?.changed.title).toEqual({ old: null, new: 'Task a' })
    expect(h[0]?.changed['fields.color']).toEqual({ old: null, new: 'blue' })
    expect((await stateRow(s))[0]?.cursor).toEqual({ page: 1 })
  })

  it("lists an insert's fields in the database exactly as diffSnapshots(null, snapshot) does", async () => {
    const odd = task('odd', {
      title: 'null',
      description: null,
      priority: '',
      assignees: [],
      createdBy: 'ada@example.com',
      fields: { n: 0, f: false, nested: { a: [1, null, { b: 'x' }] }, gone: null, nan: Number.NaN, text: 'it\'s "quoted" \\ ü 🙂', empty: {} },
    })
    await mirror.applyPage(s, { records: [odd, task('plain')] })
    const stored = await sql<{ remote_id: string; changed: unknown; snapshot: Snapshot }[]>`
      select h.remote_id, h.changed, r.snapshot from elsync.record_history h
      join elsync.records r on r.connection = h.connection and r.stream = h.stream and r.remote_id = h.remote_id
      where h.connection = ${s.connection} and h.stream = ${s.stream} order by h.remote_id`
    expect(stored).toHaveLength(2)
    for (const row of stored) expect(row.changed).toEqual(JSON.parse(JSON.stringify(diffSnapshots(null, row.snapshot))))
    expect(stored[0]?.changed).toMatchObject({ title: { old: null, new: 'null' }, priority: { old: null, new: '' }, 'fields.n': { old: null, new: 0 } })
    expect(stored[0]?.changed).not.toHaveProperty('fields.gone')
    expect(stored[0]?.changed).not.toHaveProperty('description')
  })

  it('writes zero rows and zero history when an identical page is replayed', async () => {
    const page = { records: [task('a'), task('b'), task('c')], cursor: { page: 1 } }
    await mirror.applyPage(s, page)
    const before = { rows: await xmins(s), hist: await history(s), state: await stateRow(s) }
    const r = await mirror.applyPage(s, page)
    expect(r).toMatchObject({ seen: 3, unchanged: 3, changes: 0, inserted: 0, updated: 0 })
    expect(await xmins(s)).toEqual(before.rows)
    expect(await history(s)).toEqual(before.hist)
    expect(await stateRow(s)).toEqual(before.state)
  })

  it('records one history row with old and new values and version+1 for a changed field', async () => {
    await mirror.applyPage(s, { records: [task('a'), task('b')] })
    const r = await mirror.applyPage(s, { records: [task('a', { status: 'Done', statusCategory: 'done' }), task('b')] })
    expect(r).toMatchObject({ updated: 1, unchanged: 1, changes: 1 })
    const h = (await history(s)).filter((x) => x.op === 'update')
    expect(h).toHaveLength(1)
    expect(h[0]).toMatchObject({ remote_id: 'a', version: 2 })
    expect(h[0]?.changed).toEqual({
      status: { old: 'To Do', new: 'Done' },
      status_category: { old: 'todo', new: 'done' },
    })
    const [row] = await sql`select version, status from elsync.records_current where stream = ${s.stream} and remote_id = 'a'`
    expect(row).toMatchObject({ version: 2, status: 'Done' })
  })

  it('keeps remote_updated_at in the row but out of changed, and adds no history when only it moved', async () => {
    await mirror.applyPage(s, { records: [task('a'), task('b')] })
    const later = { remoteUpdatedAt: '2026-11-21T09:00:00.000Z', document: { id: 'x', updatedAt: '2026-11-21T09:00:00.000Z' } }
    const r = await mirror.applyPage(s, { records: [task('a', { ...later, title: 'Renamed' }), task('b', later)] })
    expect(r).toMatchObject({ updated: 1, changes: 1 })
    const h = (await history(s)).filter((x) => x.op === 'update')
    expect(h.map((x) => [x.remote_id, x.version, x.changed])).toEqual([['a', 2, { title: { old: 'Task a', new: 'Renamed' } }]])
    const rows = await sql`select remote_id, version, remote_updated_at = ${later.remoteUpdatedAt}::timestamptz as moved
      from elsync.records_current where stream = ${s.stream} order by remote_id`
    expect(rows.map((x) => [x.remote_id, x.version, x.moved])).toEqual([
      ['a', 2, true],
      ['b', 1, true],
    ])
    // and the touched row is now current: the same page again writes nothing
    const before = await xmins(s)
    expect(await mirror.applyPage(s, { records: [task('a', { ...later, title: 'Renamed' }), task('b', later)] })).toMatchObject({ unchanged: 2 })
    expect(await xmins(s)).toEqual(before)
  })

  it('leaves rows, history and cursor exactly as before when an error is thrown in the middle', async () => {
    await mirror.applyPage(s, { records: [task('a')], cursor: { page: 1 } })
    const before = { rows: await sql`select * from elsync.records where stream = ${s.stream}`, hist: await history(s), state: await stateRow(s) }
    const failing = createPgMirror(sql, {
      afterStep: (step) => {
        if (step === 'changes') throw new Error('boom in the middle')
      },
    })
    await expect(failing.applyPage(s, { records: [task('a', { title: 'changed' }), task('new')], cursor: { page: 2 } })).rejects.toThrow('boom in the middle')
    expect(await sql`select * from elsync.records where stream = ${s.stream}`).toEqual(before.rows)
    expect(await history(s)).toEqual(before.hist)
    expect(await stateRow(s)).toEqual(before.state)
    expect(await mirror.getCursor(s)).toEqual({ page: 1 })
  })

  it('dedupes a record repeated within one page (offset paging drift)', async () => {
    const r = await mirror.applyPage(s, { records: [task('a'), task('a', { title: 'newer' })] })
    expect(r).toMatchObject({ seen: 1, inserted: 1 })
    const [row] = await sql`select title from elsync.records where stream = ${s.stream}`
    expect(row?.title).toBe('newer')
  })

  it('handles a page of 10,000 records in one statement batch', async () => {
    const records = Array.from({ length: 10_000 }, (_, i) => task(`r${i}`))
    const r = await mirror.applyPage(s, { records, cursor: 'end' })
    expect(r.inserted).toBe(10_000)
    const [c] = await sql`select count(*)::int as n from elsync.records_current where stream = ${s.stream}`
    expect(c?.n).toBe(10_000)
    const again = await mirror.applyPage(s, { records, cursor: 'end' })
    expect(again).toMatchObject({ unchanged: 10_000, changes: 0 })
  })

  it('stores text with NUL bytes stripped, and reports how many were stripped', async () => {
    const r = await mirror.applyPage(s, {
      records: [task('nul', { title: 'a\u0000b', description: 'x\u0000\u0000y', document: { t: 'a\u0000b' }, fields: { 'k\u0000': 'v' } })],
    })
    expect(r.nulBytesStripped).toBe(5)
    const [row] = await sql`select title, description, fields, document from elsync.records where stream = ${s.stream}`
    expect(row).toMatchObject({ title: 'ab', description: 'xy', fields: { k: 'v' }, document: { t: 'ab' } })
  })

  it('stores a record with 1 MB of text', async () => {
    const big = 'é'.repeat(512 * 1024)
    await mirror.applyPage(s, { records: [task('big', { description: big })] })
    const [row] = await sql`select length(description)::int as n from elsync.records where stream = ${s.stream}`
    expect(row?.n).toBe(big.length)
  })

  it('replaces the comments, attachments and relations of the parents a page lists', async () => {
    const comment = (id: string, body: string) => ({
      parentRemoteId: 'a',
      commentId: id,
      body,
      author: 'Jane',
      createdAt: '2026-11-20T10:00:00Z',
      document: { id },
    })
    await mirror.applyPage(s, {
      records: [task('a')],
      comments: { parents: ['a'], items: [comment('c1', 'one'), comment('c2', 'two')] },
      attachments: {
        parents: ['a'],
        items: [{ parentRemoteId: 'a', attachmentId: 'f1', filename: 'x.pdf', mediaType: 'application/pdf', size: 10, createdAt: null, document: {} }],
      },
      relations: { parents: ['a'], items: [{ parentRemoteId: 'a', relatedRemoteId: 'TSK-9', relatedStream: 'other', relationId: 'rel1' }] },
    })
    await mirror.applyPage(s, { records: [], comments: { parents: ['a'], items: [comment('c2', 'two edited')] } })
    const comments = await sql`select comment_id, body from elsync.comments where stream = ${s.stream} order by comment_id`
    expect(comments.map((c) => [c.comment_id, c.body])).toEqual([['c2', 'two edited']])
    expect((await sql`select filename from elsync.attachments where stream = ${s.stream}`).map((a) => a.filename)).toEqual(['x.pdf'])
    expect((await sql`select related_remote_id from elsync.related_items where stream = ${s.stream}`).map((a) => a.related_remote_id)).toEqual(['TSK-9'])
  })
})

describe('completeScan', () => {
  const scan = async (s: StreamRef, ids: string[], opts: { force?: boolean } = {}) => {
    const runId = await mirror.startRun(s, 'full')
    await mirror.applyPage(s, { records: ids.map((id) => task(id)) }, { scanRunId: runId })
    return mirror.completeScan(s, runId, { maxDeleteFraction: 0.1, ...opts })
  }

  it('soft-deletes what a complete scan did not see and restores it when it returns', async () => {
    const s = freshStream()
    const ids = Array.from({ length: 20 }, (_, i) => `t${i}`)
    await scan(s, ids)
    const result = await scan(s, ids.slice(1))
    expect(result).toEqual({ deleted: 1, live: 20, pending: 0 })
    const live = await sql`select remote_id from elsync.records_current where stream = ${s.stream}`
    expect(live.map((r) => r.remote_id)).not.toContain('t0')
    expect(live).toHaveLength(19)
    await scan(s, ids)
    const h = await sql`select op, version from elsync.record_history where stream = ${s.stream} and remote_id = 't0' order by version`
    expect(h.map((x) => [x.op, x.version])).toEqual([
      ['insert', 1],
      ['delete', 2],
      ['restore', 3],
    ])
    expect(await sql`select 1 from elsync.records_current where stream = ${s.stream} and remote_id = 't0'`).toHaveLength(1)
  })

  it('refuses a scan that would delete 50% of a stream, deleting nothing', async () => {
    const s = freshStream()
    const ids = Array.from({ length: 10 }, (_, i) => `t${i}`)
    await scan(s, ids)
    const err = await scan(s, ids.slice(0, 5)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MassDeleteRefusedError)
    expect((err as MassDeleteRefusedError).message).toMatch(/refusing to delete 5 of 10 records \(50\.0%\)/)
    expect(await sql`select 1 from elsync.records_current where stream = ${s.stream}`).toHaveLength(10)
    expect(await sql`select 1 from elsync.scan_seen`).toHaveLength(0)
  })

  it('forgets what a scan saw when the connector restarts it, so a record read before its deletion is deleted', async () => {
    const s = freshStream()
    const ids = Array.from({ length: 20 }, (_, i) => `t${i}`)
    await scan(s, ids)
    const runId = await mirror.startRun(s, 'full')
    await mirror.applyPage(s, { records: ids.map((id) => task(id)) }, { scanRunId: runId })
    await mirror.resetScan(runId)
    await mirror.applyPage(s, { records: ids.slice(1).map((id) => task(id)) }, { scanRunId: runId })
    expect(await mirror.completeScan(s, runId, { maxDeleteFraction: 0.1 })).toEqual({ deleted: 1, live: 20, pending: 0 })
  })

  it('deletes only after the configured number of complete scans in a row missed a record', async () => {
    const s = freshStream()
    const ids = Array.from({ length: 20 }, (_, i) => `t${i}`)
    const scanWith = async (seen: string[]) => {
      const runId = await mirror.startRun(s, 'full')
      await mirror.applyPage(s, { records: seen.map((id) => task(id)) }, { scanRunId: runId })
      return mirror.completeScan(s, runId, { maxDeleteFraction: 0.1, missedScansToDelete: 2 })
    }
    await scanWith(ids)
    // t0 missed once (drift?), t1 missed once and back: nothing is deleted, nothing is written to history
    expect(await scanWith(ids.slice(2))).toEqual({ deleted: 0, live: 20, pending: 2 })
    const [missed] = await sql`select count(*)::int as n from elsync.records where stream = ${s.stream} and missed_scans = 1`
    expect(missed?.n).toBe(2)
    expect(await scanWith(ids.filter((id) => id !== 't0'))).toEqual({ deleted: 1, live: 20, pending: 0 })
    const gone = await sql`select remote_id from elsync.record_history where stream = ${s.stream} and op = 'delete'`
    expect(gone.map((g) => g.remote_id)).toEqual(['t0'])
    const [reset] = await sql`select missed_scans from elsync.records where stream = ${s.stream} and remote_id = 't1'`
    expect(reset?.missed_scans).toBe(0)
  })

  it('lets a small stream lose up to three records without tripping the mass-delete guard', async () => {
    const s = freshStream()
    await scan(s, ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'])
    expect(await scan(s, ['a', 'b', 'c', 'd', 'e'])).toMatchObject({ deleted: 3, live: 8 })
    await expect(scan(s, ['a'])).rejects.toThrow(/refusing to delete 4 of 5 records .*--full --confirm-deletes/)
  })

  it('deletes above the fraction when an admin forces it', async () => {
    const s = freshStream()
    await scan(s, ['a', 'b'])
    expect(await scan(s, ['a'], { force: true })).toEqual({ deleted: 1, live: 2, pending: 0 })
  })
})
