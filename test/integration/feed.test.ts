import { describe, expect, it } from 'vitest'
import { readChanges } from '../../src/db/feed.store.js'
import { createPgMirror } from '../../src/db/mirror.store.js'
import type { FeedChange, FeedOffset } from '../../src/engine/ports.js'
import type { RemoteRecord, StreamRef } from '../../src/engine/types.js'
import { createTestDb } from '../support/db.js'
import { deferred } from '../support/deferred.js'

const db = await createTestDb()
const { sql } = db
const mirror = createPgMirror(sql)
let n = 0
const fresh = (): StreamRef => ({ connection: 'elean', stream: `feed-${++n}` })
const task = (id: string, title = `Task ${id}`): RemoteRecord => ({ remoteId: id, title, document: { id, title } })

/** A consumer that follows the feed from its own offset, as reconcile will. */
function follower(streams: readonly StreamRef[], limit: number) {
  const seen: FeedChange[] = []
  let offset: FeedOffset | null = null
  const read = async () => {
    const page = await readChanges(sql, { after: offset, limit, streams })
    seen.push(...page.changes)
    offset = page.next
    return page.changes
  }
  /**
   * Reads until `count` changes were seen or the deadline passes. The feed stops below the
   * oldest transaction still running anywhere on the server (other test files' included),
   * so what is committed can take a moment to appear.
   */
  const until = async (count: number, ms = 20_000) => {
    const deadline = Date.now() + ms
    while (seen.length < count && Date.now() < deadline) {
      if ((await read()).length === 0) await new Promise((r) => setTimeout(r, 20))
    }
    return seen
  }
  return { seen, read, until }
}

const keyOf = (c: FeedChange) => `${c.stream}/${c.remoteId}@${c.version}`

describe('the change feed', () => {
  it('never skips a change whose lower id commits after a higher one, and returns none twice', async () => {
    const a = fresh()
    const b = fresh()
    const aWrote = deferred()
    const releaseA = deferred()
    const slowWriter = createPgMirror(sql, {
      afterStep: async (step) => {
        if (step !== 'changes') return
        aWrote.resolve()
        await releaseA.promise
      },
    })
    // A appends its changes first (the lower ids) and stays open
    const writingA = slowWriter.applyPage(a, { records: [task('a1'), task('a2'), task('a3')] })
    await aWrote.promise
    // B appends after A (higher ids) and commits first
    await mirror.applyPage(b, { records: [task('b1'), task('b2')] })
    const consumer = follower([a, b], 2)
    const whileAOpen = await consumer.read()
    releaseA.resolve()
    await writingA

    const seen = await consumer.until(5)
    expect(seen.map(keyOf).sort()).toEqual(['a1', 'a2', 'a3'].map((id) => `${a.stream}/${id}@1`).concat(['b1', 'b2'].map((id) => `${b.stream}/${id}@1`)))
    expect(new Set(seen.map((c) => c.offset.id)).size).toBe(5)
    // in the order the transactions wrote, not the ids
    expect(seen.map((c) => c.stream)).toEqual([a.stream, a.stream, a.stream, b.stream, b.stream])
    // the scenario held: the lower ids were A's, which committed last, and B's waited for them
    const ids = await sql<{ stream: string; id: string }[]>`select stream, id from elsync.record_changes where stream in (${a.stream}, ${b.stream})`
    const maxA = Math.max(...ids.filter((r) => r.stream === a.stream).map((r) => Number(r.id)))
    const minB = Math.min(...ids.filter((r) => r.stream === b.stream).map((r) => Number(r.id)))
    expect(maxA).toBeLessThan(minB)
    expect(whileAOpen).toEqual([])
    // nothing more, and the offset stays put
    expect(await consumer.read()).toEqual([])
  })

  it('follows many writers committing in random order, returning each change exactly once', async () => {
    const streams = Array.from({ length: 6 }, fresh)
    const consumer = follower(streams, 7)
    let writing = true
    const reading = (async () => {
      while (writing) await consumer.read()
    })()
    // each writer yields to the event loop a random number of times between its steps
    const jittery = createPgMirror(sql, {
      afterStep: async () => {
        for (let i = Math.floor(Math.random() * 20); i > 0; i--) await new Promise((r) => setImmediate(r))
      },
    })
    await Promise.all(
      streams.map(async (s) => {
        await jittery.applyPage(s, { records: ['x', 'y', 'z'].map((id) => task(id)) })
        await jittery.applyPage(s, { records: [task('x', 'changed'), task('w')] })
      }),
    )
    writing = false
    await reading
    const [total] = await sql<{ n: number }[]>`select count(*)::int as n from elsync.record_changes where stream in ${sql(streams.map((s) => s.stream))}`
    expect(total?.n).toBe(streams.length * 5)
    const seen = await consumer.until(total?.n ?? 0)
    const keys = seen.map(keyOf)
    expect(keys).toHaveLength(streams.length * 5)
    expect(new Set(keys).size).toBe(keys.length)
  })

  it('returns only the streams asked for, and every stream when none are named', async () => {
    const a = fresh()
    const b = fresh()
    await mirror.applyPage(a, { records: [task('1')] })
    await mirror.applyPage(b, { records: [task('2')] })
    const onlyA = await follower([a], 10).until(1)
    expect(onlyA.map(keyOf)).toEqual([`${a.stream}/1@1`])
    const all = follower([], 1000)
    const [count] = await sql<{ n: number }[]>`select count(*)::int as n from elsync.record_changes`
    const seen = await all.until(count?.n ?? 0)
    expect(seen.map(keyOf)).toEqual(expect.arrayContaining([`${a.stream}/1@1`, `${b.stream}/2@1`]))
  })

  it('says in each change what caused it: the run that polled it, or the outbox row whose push wrote it', async () => {
    const s = fresh()
    const first = await mirror.startRun(s, 'full')
    await mirror.applyPage(s, { records: [task('x'), task('y')] }, { runId: first, scanRunId: first })
    await mirror.completeScan(s, first, { maxDeleteFraction: 1 })
    const second = await mirror.startRun(s, 'full')
    await mirror.applyPage(s, { records: [task('x')] }, { runId: second, scanRunId: second })
    await mirror.completeScan(s, second, { maxDeleteFraction: 1 })
    await mirror.applyPage(s, { records: [task('x', 'pushed title')] }, { source: 'push', outboxId: 42 })

    const seen = await follower([s], 10).until(4)
    expect(seen.map((c) => [c.remoteId, c.op, c.source, c.runId, c.outboxId])).toEqual([
      ['x', 'insert', 'poll', first, null],
      ['y', 'insert', 'poll', first, null],
      ['y', 'delete', 'poll', second, null],
      ['x', 'update', 'push', null, 42],
    ])
    const history = await sql`select remote_id, op, source, run_id, outbox_id from elsync.record_history where stream = ${s.stream} order by version, remote_id`
    expect(
      history.map((h) => [h.remote_id, h.op, h.source, h.run_id === null ? null : Number(h.run_id), h.outbox_id === null ? null : Number(h.outbox_id)]),
    ).toEqual([
      ['x', 'insert', 'poll', first, null],
      ['y', 'insert', 'poll', first, null],
      ['x', 'update', 'push', null, 42],
      ['y', 'delete', 'poll', second, null],
    ])
  })
})
