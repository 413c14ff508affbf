import { describe, expect, it } from 'vitest'
import { createPgMirror } from '../../src/db/mirror.store.js'
import { createPgOutboxStore } from '../../src/db/outbox.store.js'
import { createPgReconcileStore } from '../../src/db/reconcile.store.js'
import { createPushExecutor } from '../../src/engine/push.js'
import type { OutboxState } from '../../src/engine/write.types.js'
import { createTestDb } from '../support/db.js'
import { until } from '../support/until.js'
import { request, seedLinks } from '../support/write.js'

/**
 * The write ledger's retention: the running executor deletes finished writes (sent, ignored,
 * superseded) once they are older than the retention, and keeps everything an admin or the
 * sync state still needs: dead, pending and failed writes, and a sent write that settles a
 * dead one before it.
 */
const db = await createTestDb()
const { sql } = db
const store = createPgReconcileStore(sql)
const DAY = 86_400_000

/** One row per link (so that none settles another), in `state`, last changed `ageDays` ago. */
async function row(link: number, state: OutboxState, ageDays: number): Promise<number> {
  const id = await store.transaction((tx) => tx.enqueue(request('ret', link)))
  await sql`update elsync.outbox set state = ${state}, updated_at = now() - make_interval(days => ${ageDays}) where id = ${id}`
  return id
}

describe('outbox retention', () => {
  it('the running executor deletes finished writes past the retention and keeps the rest', { timeout: 60_000 }, async () => {
    const links = await seedLinks(sql, 'ret', 12)
    const link = (i: number) => links[i] as number
    const expired = [await row(link(0), 'sent', 8), await row(link(1), 'ignored', 8), await row(link(2), 'superseded', 30)]
    const kept = [
      await row(link(3), 'sent', 2),
      await row(link(4), 'dead', 40),
      await row(link(5), 'pending', 40),
      await row(link(6), 'failed', 40),
      // a dead write, then a later one of the same link and side that went through: the sync state needs both
      await row(link(7), 'dead', 40),
    ]
    const settles = await store.transaction((tx) => tx.enqueue(request('ret', link(7))))
    await sql`update elsync.outbox set state = 'sent', updated_at = now() - interval '40 days' where id = ${settles}`
    // not yet claimable, so that the executor has nothing else to do
    await sql`update elsync.outbox set next_attempt_at = now() + interval '1 day' where state in ('pending', 'failed')`

    const pruned: number[] = []
    const executor = createPushExecutor({
      outbox: createPgOutboxStore(sql),
      connectors: () => {
        throw new Error('nothing is due')
      },
      mirror: createPgMirror(sql),
      owner: 'retention-test',
      leaseMs: 60_000,
      pollMs: 50,
      retention: { keepMs: 7 * DAY, everyMs: 100 },
      onPruned: (n) => pruned.push(n),
    })
    const stop = new AbortController()
    const running = executor.run(stop.signal)
    try {
      await until('the first prune', () => (pruned.length > 0 ? true : undefined))
      const left = (await sql<{ id: string }[]>`select id from elsync.outbox where mapping_id = 'ret' order by id`).map((r) => Number(r.id))
      expect(left).toEqual([...kept, settles])
      expect(pruned[0]).toBe(expired.length)

      // and it keeps pruning: a write that ages past the retention goes at a later prune
      const aged = kept[0] as number
      await sql`update elsync.outbox set updated_at = now() - interval '8 days' where id = ${aged}`
      await until('the aged write to go', async () => ((await sql`select 1 from elsync.outbox where id = ${aged}`).length === 0 ? true : undefined))
    } finally {
      stop.abort()
      await running
    }
  })
})
