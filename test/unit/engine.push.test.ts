import { describe, expect, it } from 'vitest'
import { NotFoundError, RejectedError, UnconfirmedWriteError } from '../../src/connectors/shared/write.js'
import type { Connector } from '../../src/engine/ports.js'
import { backoffMs } from '../../src/engine/push.failure.js'
import { createPushExecutor, type PushExecutorOptions } from '../../src/engine/push.js'
import { HttpStatusError, NetworkError, RateLimitedError } from '../../src/http/errors.js'
import { fakeClock, fakeMirror, fakeOutbox, fakeVendor, until } from './engine.push.fakes.js'

const LEASE = 60_000

function setup(o: { ordered?: boolean; deletes?: boolean; description?: string } = {}) {
  const clock = fakeClock()
  const outbox = fakeOutbox(clock, o)
  const calls: string[] = []
  const vendors = { A: fakeVendor('A', calls, o), B: fakeVendor('B', calls, o) }
  const { mirror, applied } = fakeMirror(outbox.log)
  const connectors = (c: string): Connector => {
    const v = vendors[c as 'A' | 'B']
    if (!v) throw new Error(`no connection ${c}`)
    return v.connector
  }
  const executor = (extra: Partial<PushExecutorOptions> = {}) =>
    createPushExecutor({
      outbox: outbox.store,
      connectors,
      mirror,
      owner: 'x1',
      leaseMs: LEASE,
      backoff: { baseMs: 1_000, maxMs: 60_000 },
      now: clock.now,
      random: () => 0.5,
      ...extra,
    })
  const signal = new AbortController().signal
  return { clock, outbox, calls, vendors, applied, executor, signal }
}

describe('push executor', () => {
  it("sends a link's create before its update, and the update goes to the created record", async () => {
    const t = setup()
    const create = t.outbox.enqueue({ linkId: 1, op: 'create', values: { title: 'first', description: 'Text' } })
    const update = t.outbox.enqueue({ linkId: 1, op: 'update', values: { title: 'second' } })
    const result = await t.executor().drain(t.signal)
    expect(t.calls).toEqual(['B create first', 'B update B-1 second'])
    expect(result).toEqual({ sent: 2, failed: 0, dead: 0, deferred: 0 })
    expect(t.outbox.get(create).row.state).toBe('sent')
    expect(t.outbox.get(update).row.state).toBe('sent')
    // the create carries its marker as the description's last line
    expect(t.vendors.B.payloads[0]?.description).toBe('Text\n\nelsync:m:1')
  })

  it('with waitForHeld, pushes rows a dead executor claimed once their lease runs out, and counts what another still holds', async () => {
    const t = setup()
    const orphan = t.outbox.enqueue({ linkId: 1, op: 'create', values: { title: 'claimed by the dead' } })
    // another executor claimed the row and died: nothing renews its lease
    await t.outbox.store.claim({ owner: 'dead', leaseMs: 2_000, limit: 10 })
    expect(await t.executor().drain(t.signal)).toEqual({ sent: 0, failed: 0, dead: 0, deferred: 0 })
    const waits: number[] = []
    const result = await t.executor().drain(t.signal, {
      waitForHeld: { ms: 10_000, onWaiting: (n) => (waits.push(n), t.clock.advance(2_001)) },
    })
    expect(waits).toEqual([1])
    expect(result).toEqual({ sent: 1, failed: 0, dead: 0, deferred: 0, held: 0 })
    expect(t.outbox.get(orphan).row.state).toBe('sent')

    // a lease that runs out between the drain's claim and its look at what is held: claimed all the same
    const late = t.outbox.enqueue({ linkId: 3, op: 'create', values: { title: 'expires in between' } })
    await t.outbox.store.claim({ owner: 'dead', leaseMs: 2_000, limit: 10 })
    const held = t.outbox.store.heldElsewhere.bind(t.outbox.store)
    let looks = 0
    t.outbox.store.heldElsewhere = async (owner) => {
      if (++looks === 2) t.clock.advance(2_001)
      return held(owner)
    }
    expect(await t.executor().drain(t.signal, { waitForHeld: { ms: 10_000 } })).toEqual({ sent: 1, failed: 0, dead: 0, deferred: 0, held: 0 })
    expect(t.outbox.get(late).row.state).toBe('sent')
    t.outbox.store.heldElsewhere = held

    // a holder whose lease outlasts the wait: the drain gives up and says how many it left
    t.outbox.enqueue({ linkId: 2, op: 'create', values: { title: 'held by the living' } })
    await t.outbox.store.claim({ owner: 'alive', leaseMs: 60_000, limit: 10 })
    const gaveUp = await t.executor().drain(t.signal, { waitForHeld: { ms: 1_000, onWaiting: () => t.clock.advance(1_001) } })
    expect(gaveUp).toEqual({ sent: 0, failed: 0, dead: 0, deferred: 0, held: 1 })
  })

  it("writes the marker into the vendor's own description field, never into a look-alike name", async () => {
    const t = setup({ description: 'Description' })
    t.outbox.enqueue({ linkId: 3, op: 'create', values: { title: 'x' } })
    await t.executor().drain(t.signal)
    expect(t.vendors.B.payloads[0]).toEqual({ title: 'x', Description: 'elsync:m:3' })
  })

  it("holds a link's later rows in the batch when an earlier one fails, even on another connection", async () => {
    const t = setup({ ordered: false })
    t.vendors.A.script('create', new HttpStatusError(503, 'answered 503: busy', undefined, undefined))
    const create = t.outbox.enqueue({ linkId: 1, op: 'create', connection: 'A' })
    const update = t.outbox.enqueue({ linkId: 1, op: 'update', connection: 'B', target: 'left', remoteId: 'L1' })
    const other = t.outbox.enqueue({ linkId: 2, op: 'update', connection: 'B', remoteId: 'B-9' })
    await t.executor({ batch: 3 }).drain(new AbortController().signal)
    expect(t.outbox.get(create).row.state).toBe('failed')
    expect(t.outbox.get(other).row.state).toBe('sent')
    // the batch held the update back and gave it back unsent (this store, unlike the real one,
    // then lets the next claim take it: the executor alone keeps the order within a batch)
    const log = t.outbox.log
    expect(log.indexOf(`released ${update}`)).toBeGreaterThan(log.indexOf(`failed ${create} http_503`))
    expect(log.slice(0, log.indexOf(`released ${update}`))).not.toContain(`sent ${update}`)
  })

  it('finds the record by its marker after a crash between the create and its mark, instead of creating it again', async () => {
    const t = setup()
    const id = t.outbox.enqueue({ linkId: 7, op: 'create', values: { title: 'once' } })
    t.outbox.failNextMarkSent()
    const first = await t.executor().drain(t.signal)
    expect(first.failed).toBe(1)
    t.clock.advance(LEASE + 1)
    const second = await t.executor({ owner: 'x2' }).drain(t.signal)
    expect(second.sent).toBe(1)
    expect(t.calls).toEqual(['B create once', 'B find elsync:m:7'])
    expect(t.vendors.B.records.size).toBe(1)
    expect(t.outbox.get(id).result?.remoteId).toBe('B-1')
  })

  it('retries a 503 after the backoff, or after its Retry-After when that is later', async () => {
    const t = setup()
    t.vendors.B.script('update', new HttpStatusError(503, 'answered 503: busy', undefined, 30_000))
    const slow = t.outbox.enqueue({ linkId: 1, op: 'update', remoteId: 'B-1' })
    t.vendors.B.script('update', new HttpStatusError(503, 'answered 503: busy', undefined, 100))
    const quick = t.outbox.enqueue({ linkId: 2, op: 'update', remoteId: 'B-2' })
    const start = t.clock.ms()
    expect(await t.executor().drain(t.signal)).toMatchObject({ failed: 2 })
    expect(t.outbox.get(slow).failure).toMatchObject({ code: 'server_error', status: 503, message: 'answered 503: busy' })
    expect(t.outbox.get(slow).failure?.retryAt?.getTime()).toBe(start + 30_000)
    // attempt 1, random 0.5: half of baseMs, later than the 100 ms asked for
    expect(t.outbox.get(quick).failure?.retryAt?.getTime()).toBe(start + 500)
    t.clock.advance(500)
    expect(await t.executor().drain(t.signal)).toMatchObject({ sent: 1 })
    expect(t.outbox.get(slow).row.state).toBe('failed')
    t.clock.advance(29_500)
    expect(await t.executor().drain(t.signal)).toMatchObject({ sent: 1 })
    expect(t.outbox.get(slow).row).toMatchObject({ state: 'sent', attempts: 2 })
  })

  it('waits out a rate limit longer than the run waits, until the API accepts requests again', async () => {
    const t = setup()
    const at = new Date(t.clock.ms() + 3_600_000)
    t.vendors.B.script('update', new RateLimitedError('rate limited for an hour', at))
    const id = t.outbox.enqueue({ linkId: 1, op: 'update', remoteId: 'B-1' })
    await t.executor().drain(t.signal)
    expect(t.outbox.get(id).failure).toMatchObject({ code: 'rate_limited', retryAt: at })
  })

  it('parks a 403 and a refused payload as dead at once, with their messages', async () => {
    const t = setup()
    t.vendors.B.script('update', new HttpStatusError(403, 'answered 403: no write access', undefined, undefined))
    const forbidden = t.outbox.enqueue({ linkId: 1, op: 'update', remoteId: 'B-1' })
    t.vendors.B.script('update', new RejectedError('refused (field title): too long', 'title'))
    const rejected = t.outbox.enqueue({ linkId: 2, op: 'update', remoteId: 'B-2' })
    expect(await t.executor().drain(t.signal)).toMatchObject({ dead: 2, failed: 0 })
    expect(t.outbox.get(forbidden).row).toMatchObject({ state: 'dead', attempts: 1, lastError: 'answered 403: no write access' })
    expect(t.outbox.get(forbidden).failure).toMatchObject({ code: 'forbidden', status: 403, retryAt: null })
    expect(t.outbox.get(rejected).failure).toMatchObject({ code: 'rejected', message: 'refused (field title): too long', retryAt: null })
  })

  it('parks a row as dead after maxAttempts retryable failures, with the last error', async () => {
    const t = setup()
    for (let i = 1; i <= 3; i++) t.vendors.B.script('update', new NetworkError(`connection reset ${i}`, 'transfer'))
    const id = t.outbox.enqueue({ linkId: 1, op: 'update', remoteId: 'B-1' })
    const ex = t.executor({ maxAttempts: 3 })
    for (let i = 0; i < 3; i++) {
      await ex.drain(t.signal)
      t.clock.advance(60_000)
    }
    expect(t.outbox.get(id).row).toMatchObject({ state: 'dead', attempts: 3, lastError: 'connection reset 3 (gave up after 3 attempts)' })
    expect(await ex.drain(t.signal)).toEqual({ sent: 0, failed: 0, dead: 0, deferred: 0 })
  })

  it('retries an unconfirmed create by looking its marker up: found → no second create, missing → created', async () => {
    const t = setup()
    t.vendors.B.script('create', () => {
      throw new UnconfirmedWriteError('created, but the answer could not be read')
    })
    const applied = t.outbox.enqueue({ linkId: 1, op: 'create', values: { title: 'kept' } })
    t.vendors.B.script('create', new UnconfirmedWriteError('may have been applied, but its answer was lost'))
    const lost = t.outbox.enqueue({ linkId: 2, op: 'create', values: { title: 'lost' } })
    expect(await t.executor().drain(t.signal)).toMatchObject({ failed: 2 })
    expect(t.outbox.get(applied).failure?.code).toBe('unconfirmed')
    t.clock.advance(60_000)
    expect(await t.executor().drain(t.signal)).toMatchObject({ sent: 2 })
    expect(t.calls).toEqual(['B create kept', 'B create lost', 'B find elsync:m:1', 'B find elsync:m:2', 'B create lost'])
    expect(t.vendors.B.records.size).toBe(2)
    expect(t.outbox.get(lost).result?.remoteId).toBe('B-2')
  })

  it('marks the row sent, then saves the record read back as a push of that outbox row', async () => {
    const t = setup()
    const id = t.outbox.enqueue({ linkId: 1, op: 'update', remoteId: 'B-4', values: { title: 'new' } })
    await t.executor().drain(t.signal)
    expect(t.outbox.log).toEqual([`sent ${id}`, `apply B-4 outbox ${id}`])
    expect(t.applied[0]).toMatchObject({ stream: { connection: 'B', stream: 'tasks' }, page: { records: [{ remoteId: 'B-4', title: 'new' }] } })
    expect(t.applied[0]?.opts).toEqual({ source: 'push', outboxId: id })
  })

  it('parks a delete as dead when the connector cannot delete; a record already gone counts as deleted', async () => {
    const t = setup()
    const id = t.outbox.enqueue({ linkId: 1, op: 'delete', remoteId: 'B-1' })
    await t.executor().drain(t.signal)
    expect(t.outbox.get(id).failure).toMatchObject({ code: 'delete_unsupported', retryAt: null })
    const d = setup({ deletes: true })
    d.vendors.B.script('delete', new NotFoundError('not found'))
    const gone = d.outbox.enqueue({ linkId: 1, op: 'delete', remoteId: 'B-1' })
    await d.executor().drain(d.signal)
    expect(d.outbox.get(gone).row.state).toBe('sent')
  })

  it('parks a row whose connection no longer exists', async () => {
    const t = setup()
    const id = t.outbox.enqueue({ linkId: 1, op: 'update', connection: 'gone', remoteId: 'x' })
    await t.executor().drain(t.signal)
    expect(t.outbox.get(id).row).toMatchObject({ state: 'dead', lastError: 'no connection gone' })
  })

  it('releases a row cut short by shutdown for a prompt retry, without counting it toward dead', async () => {
    const t = setup()
    const controller = new AbortController()
    t.vendors.B.script('update', () => {
      controller.abort()
      throw new NetworkError('aborted', 'transfer')
    })
    const id = t.outbox.enqueue({ linkId: 1, op: 'update', remoteId: 'B-1' })
    await t.executor({ maxAttempts: 1 }).drain(controller.signal)
    expect(t.outbox.get(id).row.state).toBe('failed')
    expect(t.outbox.get(id).failure).toMatchObject({ code: 'interrupted', retryAt: t.clock.now() })
  })

  it('gives back a row that would start with less than half its lease left, for a fresh claim at once', async () => {
    const t = setup()
    // the first push takes most of the lease
    t.vendors.B.script('update', () => t.clock.advance(LEASE * 0.6))
    t.outbox.enqueue({ linkId: 1, op: 'update', remoteId: 'B-1', values: { title: 'one' } })
    const late = t.outbox.enqueue({ linkId: 2, op: 'update', remoteId: 'B-2', values: { title: 'two' } })
    // the row is released, not left to its lease: the same drain claims it again and sends it
    expect(await t.executor().drain(t.signal)).toEqual({ sent: 2, failed: 0, dead: 0, deferred: 1 })
    expect(t.calls).toEqual(['B update B-1 one', 'B update B-2 two'])
    expect(t.outbox.log).toContain(`released ${late}`)
    // the claim that never started it does not count as an attempt
    expect(t.outbox.get(late).row).toMatchObject({ state: 'sent', attempts: 1 })
  })

  it('keeps a slow batch its leases by heartbeat, so a row waiting longer than the lease is still sent once', async () => {
    const t = setup()
    t.vendors.B.script('update', async () => {
      t.clock.advance(LEASE * 0.4)
      const beats = t.outbox.extensions()
      await until(() => t.outbox.extensions() > beats)
    })
    t.vendors.B.script('update', async () => {
      t.clock.advance(LEASE * 0.4)
      const beats = t.outbox.extensions()
      await until(() => t.outbox.extensions() > beats)
    })
    const ids = [1, 2, 3].map((n) => t.outbox.enqueue({ linkId: n, op: 'update', remoteId: `B-${n}`, values: { title: `t${n}` } }))
    // the third row starts 0.8 of a lease after the claim and is marked after that: only renewals keep it ours
    const result = await t.executor({ heartbeatMs: 5, parallel: 1 }).drain(t.signal)
    expect(result).toEqual({ sent: 3, failed: 0, dead: 0, deferred: 0 })
    for (const id of ids) expect(t.outbox.get(id).row).toMatchObject({ state: 'sent', attempts: 1 })
    // and no second executor could claim any of them meanwhile
    expect(await t.executor({ owner: 'x2' }).drain(t.signal)).toEqual({ sent: 0, failed: 0, dead: 0, deferred: 0 })
  })

  it('never sends a row twice when two executors drain one outbox at once', async () => {
    const t = setup()
    for (let link = 1; link <= 12; link++) {
      const connection = link % 2 ? 'A' : 'B'
      t.outbox.enqueue({ linkId: link, op: 'create', connection, values: { title: `c${link}` } })
      t.outbox.enqueue({ linkId: link, op: 'update', connection, values: { title: `u${link}` } })
    }
    const [a, b] = await Promise.all([t.executor({ batch: 3 }).drain(t.signal), t.executor({ owner: 'x2', batch: 3 }).drain(t.signal)])
    expect((a?.sent ?? 0) + (b?.sent ?? 0)).toBe(24)
    expect(a?.sent).toBeGreaterThan(0)
    expect(b?.sent).toBeGreaterThan(0)
    expect(new Set(t.calls).size).toBe(24)
    expect(t.vendors.A.records.size + t.vendors.B.records.size).toBe(12)
    for (let link = 1; link <= 12; link++) {
      const mine = t.calls.filter((c) => c.endsWith(`c${link}`) || c.endsWith(`u${link}`))
      expect(mine.map((c) => c.split(' ')[1])).toEqual(['create', 'update'])
    }
  })

  it('run survives a drain error, wakes on notify, and stops on abort', async () => {
    const t = setup()
    const errors: unknown[] = []
    const pushed: number[] = []
    const ex = t.executor({ pollMs: 3_600_000, onError: (err) => errors.push(err), onPushed: (row) => pushed.push(row.id) })
    t.outbox.failNextClaim(new Error('database went away'))
    const controller = new AbortController()
    const running = ex.run(controller.signal)
    await until(() => errors.length === 1)
    const id = t.outbox.enqueue({ linkId: 1, op: 'update', remoteId: 'B-1' })
    ex.notify()
    await until(() => pushed.includes(id))
    controller.abort()
    await running
    expect((errors[0] as Error).message).toBe('database went away')
  })

  it('backs off exponentially with full jitter, capped', () => {
    const b = { baseMs: 1_000, maxMs: 10_000 }
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, b, () => 0.999))).toEqual([999, 1998, 3996, 7992, 9990])
    expect(backoffMs(3, b, () => 0)).toBe(0)
  })
})
