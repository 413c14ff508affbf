import { describe, expect, it } from 'vitest'
import { createStreamLeases, LeaseLostError } from '../../src/db/leases.store.js'
import { createTestDb } from '../support/db.js'
import { deferred } from '../support/deferred.js'

const db = await createTestDb()
const stream = { connection: 'elean', stream: 'web' }

/** Resolves when `check` holds, polling; fails after a generous bound (slow machines). */
async function until(check: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

function gate() {
  const d = deferred()
  return { open: d.resolve, opened: d.promise }
}

describe('stream leases', () => {
  it('lets one replica run a stream at a time, and the other once it is released', async () => {
    const a = createStreamLeases(db.sql, { owner: 'a' })
    const b = createStreamLeases(db.sql, { owner: 'b' })
    const g = gate()
    const held = a.tryRun(stream, () => g.opened.then(() => 'a ran'))
    await until(async () => (await db.sql`select owner from elsync.stream_leases where owner = 'a'`).length === 1, 'a to hold the lease')
    expect(await b.tryRun(stream, async () => 'b ran')).toBe('busy')
    expect(await b.tryRun({ connection: 'elean', stream: 'other' }, async () => 'b ran')).toBe('b ran')
    g.open()
    expect(await held).toBe('a ran')
    expect(await b.tryRun(stream, async () => 'b ran')).toBe('b ran')
  })

  it('runs one tick of one schedule once across replicas, and the next tick again', async () => {
    const s = { connection: 'avepoint', stream: 'tenants' }
    const a = createStreamLeases(db.sql, { owner: 'a' })
    const b = createStreamLeases(db.sql, { owner: 'b' })
    const tick = { schedule: 'poll:avepoint', at: new Date('2026-12-01T10:01:00Z') }
    expect(await a.tryRun(s, async () => 'a ran', { tick })).toBe('a ran')
    // the second replica's cron fires for the same tick after the first finished
    expect(await b.tryRun(s, async () => 'b ran', { tick })).toBe('tick-done')
    // another schedule's tick at the same time is its own
    expect(await b.tryRun(s, async () => 'b ran', { tick: { schedule: 'full-scan:avepoint', at: tick.at } })).toBe('b ran')
    expect(await b.tryRun(s, async () => 'b ran', { tick: { schedule: 'poll:avepoint', at: new Date('2026-12-01T10:02:00Z') } })).toBe('b ran')
    // manual runs (elsync sync) name no tick and are only kept exclusive
    expect(await a.tryRun(s, async () => 'manual')).toBe('manual')
  })

  it('takes over the stream of a replica that died once its lease expires', async () => {
    const s = { connection: 'elean', stream: 'dead' }
    // a replica that was SIGKILLed: its row stays, nobody heartbeats it
    await db.sql`insert into elsync.stream_leases (connection, stream, owner, expires_at) values (${s.connection}, ${s.stream}, 'gone', now() + interval '1 hour')`
    const b = createStreamLeases(db.sql, { owner: 'b' })
    expect(await b.tryRun(s, async () => 'b ran')).toBe('busy')
    await db.sql`update elsync.stream_leases set expires_at = now() - interval '1 second' where owner = 'gone'`
    expect(await b.tryRun(s, async () => 'b ran')).toBe('b ran')
  })

  it('keeps a long run alive with heartbeats beyond its time to live', async () => {
    const s = { connection: 'elean', stream: 'long' }
    const a = createStreamLeases(db.sql, { owner: 'a', ttlMs: 1000 })
    const b = createStreamLeases(db.sql, { owner: 'b', ttlMs: 1000 })
    const g = gate()
    const held = a.tryRun(s, async (lost) => {
      await g.opened
      return lost.aborted ? 'lost' : 'kept'
    })
    // several heartbeats later the lease is still a's, though three times its ttl has passed since it was taken
    await until(async () => {
      const [row] = await db.sql<{ beats: boolean; held: boolean }[]>`
        select heartbeat_at > acquired_at + interval '3000 milliseconds' as beats, owner = 'a' as held
        from elsync.stream_leases where connection = ${s.connection} and stream = ${s.stream}`
      return row?.beats === true && row.held
    }, 'heartbeats past three ttls')
    expect(await b.tryRun(s, async () => 'b ran')).toBe('busy')
    g.open()
    expect(await held).toBe('kept')
  })

  it('aborts the run when another replica took the lease over', async () => {
    const s = { connection: 'elean', stream: 'stolen' }
    const a = createStreamLeases(db.sql, { owner: 'a', ttlMs: 300 })
    const run = a.tryRun(s, (lost) => new Promise((resolve) => lost.addEventListener('abort', () => resolve(lost.reason))))
    await until(
      async () => (await db.sql`select 1 from elsync.stream_leases where owner = 'a' and connection = ${s.connection} and stream = ${s.stream}`).length === 1,
      'a to hold it',
    )
    // a pause longer than the ttl (a stalled event loop): another replica took it
    await db.sql`update elsync.stream_leases set owner = 'b', expires_at = now() + interval '1 hour' where connection = ${s.connection} and stream = ${s.stream}`
    const reason = await run
    expect(reason).toBeInstanceOf(LeaseLostError)
    expect((reason as LeaseLostError).code).toBe('lease_lost')
    // a's release must not free b's lease
    const [row] = await db.sql<{ owner: string }[]>`select owner from elsync.stream_leases where connection = ${s.connection} and stream = ${s.stream}`
    expect(row?.owner).toBe('b')
  })
})
