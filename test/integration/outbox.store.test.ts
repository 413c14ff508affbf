import { afterAll, describe, expect, it } from 'vitest'
import { createDb } from '../../src/db/client.js'
import { createPgOutboxStore, OutboxLeaseLostError } from '../../src/db/outbox.store.js'
import { createPgReconcileStore } from '../../src/db/reconcile.store.js'
import type { OutboxRequest, OutboxRow } from '../../src/engine/write.types.js'
import { createTestDb } from '../support/db.js'
import { request, seedLinks } from '../support/write.js'

const db = await createTestDb()
const { sql } = db
const outbox = createPgOutboxStore(sql)
const store = createPgReconcileStore(sql)
const LEASE = 60_000

const enqueueAll = (reqs: readonly OutboxRequest[]) =>
  store.transaction(async (tx) => {
    const ids: number[] = []
    for (const r of reqs) ids.push(await tx.enqueue(r))
    return ids
  })

const rowOf = async (id: number) => (await sql`select * from elsync.outbox where id = ${id}`)[0]
/** Lets a lease run out without waiting for it. */
const expireLease = (id: number) => sql`update elsync.outbox set lease_expires_at = now() - interval '1 second' where id = ${id}`

describe('claiming outbox rows', () => {
  it('never gives one row to two executors claiming at once from two pools', async () => {
    const mappingId = 'race'
    const links = await seedLinks(sql, mappingId, 400)
    const ids = await enqueueAll(links.map((l) => request(mappingId, l)))
    const pools = [createDb(db.url, { max: 4 }), createDb(db.url, { max: 4 })]
    afterAll(() => Promise.all(pools.map((p) => p.close())))
    const claimedBy = new Map<string, OutboxRow[]>()
    const claimer = async (owner: string, store: ReturnType<typeof createPgOutboxStore>) => {
      const got: OutboxRow[] = []
      claimedBy.set(owner, got)
      for (;;) {
        const rows = await store.claim({ owner, leaseMs: LEASE, limit: 3 })
        if (rows.length === 0) return
        got.push(...rows)
      }
    }
    await Promise.all(pools.flatMap((p, i) => [0, 1, 2, 3].map((j) => claimer(`pool${i}-${j}`, createPgOutboxStore(p.sql)))))
    // anything a claimer gave up on while others held it locked is still claimable now
    await claimer('sweeper', outbox)

    const all = [...claimedBy.values()].flat().map((r) => r.id)
    expect(new Set(all).size).toBe(all.length)
    expect(all.sort((a, b) => a - b)).toEqual(ids)
    // more than one claimer got work, or the test raced nothing
    expect([...claimedBy.values()].filter((rows) => rows.length > 0).length).toBeGreaterThan(1)
    const rows = await sql<{ id: string; attempts: number; lease_owner: string }[]>`
      select id, attempts, lease_owner from elsync.outbox where mapping_id = ${mappingId}`
    expect(rows.every((r) => r.attempts === 1)).toBe(true)
    for (const [owner, got] of claimedBy) for (const r of got) expect(rows.find((x) => Number(x.id) === r.id)?.lease_owner).toBe(owner)
  })

  it('hands a row to another executor once its lease expired, and refuses the old owner’s mark', async () => {
    const [link] = await seedLinks(sql, 'takeover', 1)
    const [id] = await enqueueAll([request('takeover', link as number, { op: 'create', remoteId: null, marker: 'elsync:takeover:1' })])
    await sql`update elsync.record_links set right_remote_id = null, state = 'creating' where id = ${link as number}`
    const [a] = await outbox.claim({ owner: 'a', leaseMs: LEASE, limit: 10 })
    expect(a?.id).toBe(id)
    expect(a).toMatchObject({ op: 'create', marker: 'elsync:takeover:1', attempts: 1, state: 'pending' })
    expect(await outbox.claim({ owner: 'b', leaseMs: LEASE, limit: 10 })).toEqual([])

    await expireLease(id as number)
    const [b] = await outbox.claim({ owner: 'b', leaseMs: LEASE, limit: 10 })
    expect(b).toMatchObject({ id, attempts: 2, createdAt: expect.any(Date) })
    expect(Number.isNaN(b?.createdAt.getTime())).toBe(false)
    const sent = { remoteId: 'NEW-1', record: { remoteId: 'NEW-1', title: 'Printer', document: { secret: 'x' } }, status: 201 }
    await expect(outbox.markSent(a as OutboxRow, 'a', sent)).rejects.toBeInstanceOf(OutboxLeaseLostError)
    await expect(outbox.markFailed(a as OutboxRow, 'a', { code: 'http_500', message: 'boom', retryAt: null })).rejects.toMatchObject({
      code: 'outbox_lease_lost',
    })
    expect(await rowOf(id as number)).toMatchObject({ state: 'pending', lease_owner: 'b', sent_at: null })

    await outbox.markSent(b as OutboxRow, 'b', sent)
    expect(await rowOf(id as number)).toMatchObject({ state: 'sent', remote_id: 'NEW-1', last_status: 201, lease_owner: 'b' })
    expect(JSON.parse((await rowOf(id as number))?.response_excerpt)).toEqual({ remoteId: 'NEW-1', title: 'Printer' })
    const [l] = await sql`select right_remote_id, state, last_synced_at from elsync.record_links where id = ${link as number}`
    expect(l).toMatchObject({ right_remote_id: 'NEW-1', state: 'linked', last_synced_at: expect.anything() })
    // marked once: a second mark by the same owner is refused too
    await expect(outbox.markSent(b as OutboxRow, 'b', sent)).rejects.toBeInstanceOf(OutboxLeaseLostError)
  })

  it('retries a failed row at its time, parks it as dead without one, and an admin retry brings it back', async () => {
    const [link] = await seedLinks(sql, 'retry', 1)
    const [id] = await enqueueAll([request('retry', link as number)])
    const [first] = await outbox.claim({ owner: 'a', leaseMs: LEASE, limit: 1 })
    await outbox.markFailed(first as OutboxRow, 'a', { code: 'rate_limited', message: '429', status: 429, retryAt: new Date(Date.now() + 3_600_000) })
    expect(await rowOf(id as number)).toMatchObject({ state: 'failed', last_status: 429, last_error_code: 'rate_limited', lease_owner: null })
    expect(await outbox.claim({ owner: 'a', leaseMs: LEASE, limit: 10 })).toEqual([])

    await sql`update elsync.outbox set next_attempt_at = now() - interval '1 second' where id = ${id as number}`
    const [second] = await outbox.claim({ owner: 'b', leaseMs: LEASE, limit: 10 })
    expect(second).toMatchObject({ id, state: 'failed', attempts: 2, lastError: '429' })
    await outbox.markFailed(second as OutboxRow, 'b', { code: 'http_400', message: 'unknown field', status: 400, retryAt: null })
    expect(await rowOf(id as number)).toMatchObject({ state: 'dead', attempts: 2 })
    expect(await outbox.claim({ owner: 'b', leaseMs: LEASE, limit: 10 })).toEqual([])

    expect(await outbox.retry(id as number)).toBe(true)
    expect(await outbox.retry(id as number)).toBe(false)
    expect(await outbox.retry(999_999)).toBe(false)
    expect(await rowOf(id as number)).toMatchObject({ state: 'pending', attempts: 0 })
    expect((await outbox.claim({ owner: 'c', leaseMs: LEASE, limit: 10 })).map((r) => r.id)).toEqual([id])
  })

  it('sends the writes of one link to one side in order: a newer row waits while an older one is in flight', async () => {
    const [link] = await seedLinks(sql, 'order', 1)
    const l = link as number
    const [older] = await enqueueAll([request('order', l, { values: { status: 'In Progress' } })])
    const [claimed] = await outbox.claim({ owner: 'a', leaseMs: LEASE, limit: 10 })
    expect(claimed?.id).toBe(older)
    // claimed, so not superseded: the newer row queues behind it
    const [newer, otherSide] = await enqueueAll([request('order', l, { values: { status: 'Done' } }), request('order', l, { target: 'left', remoteId: 'L-1' })])
    expect(await rowOf(older as number)).toMatchObject({ state: 'pending' })
    expect((await outbox.claim({ owner: 'b', leaseMs: LEASE, limit: 10 })).map((r) => r.id)).toEqual([otherSide])

    await outbox.markSent(claimed as OutboxRow, 'a', { remoteId: 'R-1', record: null, status: 200 })
    expect((await outbox.claim({ owner: 'b', leaseMs: LEASE, limit: 10 })).map((r) => r.id)).toEqual([newer])
  })
})
