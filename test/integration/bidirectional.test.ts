import { afterAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { createStreamLeases } from '../../src/db/leases.store.js'
import { startElean } from '../../src/sim/elean/index.js'
import { startElementum } from '../../src/sim/elementum/index.js'
import { seedNamespace } from '../../src/sim/elementum/seed.js'
import { createTestDb } from '../support/db.js'
import { deferred } from '../support/deferred.js'
import { createExampleApp } from '../support/example-app.js'
import { captureLogs } from '../support/logs.js'
import { syncCycle, vendorWrites } from '../support/sync-cycle.js'
import { until } from '../support/until.js'

/**
 * Elementum ↔ Elean through the example mapping (mappings/it-requests.mapping.yaml,
 * `create: both`): poll → reconcile → push, cycle after cycle, against both simulators.
 */
const db = await createTestDb()
const elementum = await startElementum({ port: 0, seed: 3 })
// unlimited here: the 60/min key is exercised by the Elean connector's own tests
const elean = await startElean({ port: 0, seed: 3, perMinute: 0 })
afterAll(async () => {
  await Promise.all([elementum.close(), elean.close()])
})
seedNamespace(elementum.store, 'tasks', 'it-requests', 6, 3)
elean.store.seed('web', 5, 3)

const logs = captureLogs([elean.credentials.apiKey!, elementum.credentials.clientSecret!])
const app: App = await createExampleApp({ db, elementum, elean, logs })

const writeCount = () => vendorWrites(elementum.server.stats()) + vendorWrites(elean.server.stats())

/** One `elsync sync`: poll both streams, reconcile, push. */
const cycle = () => syncCycle(app)

const live = (connection: string) =>
  db.sql<{ remote_id: string; title: string | null; status: string | null }[]>`
    select remote_id, title, status from elsync.records_current where connection = ${connection} order by remote_id`

describe('bidirectional records, Elementum ↔ Elean', () => {
  it('dry run: plans the creates both ways and writes nothing, anywhere', { timeout: 120_000 }, async () => {
    const signal = AbortSignal.timeout(60_000)
    await app.pollPass({ mode: 'incremental', signal })
    const before = writeCount()
    const [planned] = await app.reconcilePass({ signal, dryRun: true })
    expect(planned?.error).toBeNull()
    const plan = planned?.summary?.plan ?? []
    expect(plan.filter((l) => l.startsWith('create elean/web ← elementum TSK-')).length).toBe(5)
    expect(plan.filter((l) => l.startsWith('create elementum/it-requests ← elean ')).length).toBe(5)
    expect(writeCount()).toBe(before)
    const [rows] = await db.sql<{ links: number; outbox: number; offsets: number }[]>`
      select (select count(*)::int from elsync.record_links) as links, (select count(*)::int from elsync.outbox) as outbox,
             (select count(*)::int from elsync.mapping_offsets where offset_txid is not null) as offsets`
    expect(rows).toEqual({ links: 0, outbox: 0, offsets: 0 })
  })

  it('gives every record exactly one counterpart, then a quiet sync writes nothing', { timeout: 240_000 }, async () => {
    const first = await cycle()
    expect(first.pushed.dead, logs.text().slice(-2000)).toBe(0)
    expect(first.pushed.sent).toBeGreaterThan(0)
    await cycle()
    const [left, right] = await Promise.all([live('elementum'), live('elean')])
    const [links] = await db.sql<{ n: number; open: number }[]>`
      select count(*)::int as n, count(*) filter (where left_remote_id is null or right_remote_id is null)::int as open from elsync.links where mapping_id = 'it-requests'`
    // the left side's filter keeps cancelled records out of the mapping
    const inScope = left.filter((r) => r.status !== 'Cancelled')
    expect(links).toEqual({ n: right.length, open: 0 })
    expect(inScope.length).toBe(right.length)
    const pairs = await db.sql<{ l: string; r: string }[]>`select left_remote_id as l, right_remote_id as r from elsync.links where mapping_id = 'it-requests'`
    expect(new Set(pairs.map((p) => p.l)).size).toBe(pairs.length)
    expect(new Set(pairs.map((p) => p.r)).size).toBe(pairs.length)
    // titles agree across every link (Elean trims what it stores)
    const titles = await db.sql<{ lt: string; rt: string }[]>`
      select l.title as lt, r.title as rt from elsync.links k
      join elsync.records_current l on l.connection = 'elementum' and l.remote_id = k.left_remote_id
      join elsync.records_current r on r.connection = 'elean' and r.remote_id = k.right_remote_id
      where k.mapping_id = 'it-requests'`
    for (const t of titles) expect(t.rt).toBe(t.lt.trim())

    const before = writeCount()
    const quiet = await cycle()
    expect(quiet.pushed).toMatchObject({ sent: 0, failed: 0, dead: 0 })
    expect(writeCount() - before).toBe(0)
  })

  it('carries a change on either side to the other in one sync', { timeout: 240_000 }, async () => {
    const [pair] = await db.sql<
      { l: string; r: string }[]
    >`select left_remote_id as l, right_remote_id as r from elsync.links where mapping_id = 'it-requests' order by link_id limit 1`
    expect(pair).toBeDefined()
    const record = elementum.store.find('tasks', 'it-requests', pair!.l)!
    elementum.store.update(record, { Title: 'Printer on floor 3 is out of toner  ' })
    const c1 = await cycle()
    // what the cycle did, for the failure message
    const did = JSON.stringify({
      polled: c1.polled.map((p) => [p.stream.connection, p.seen, p.changed]),
      reconciled: c1.reconciled.map((r) => ({ busy: r.busy, plan: r.summary?.plan, conflicts: r.summary?.conflicts, errors: r.summary?.errors })),
      pushed: c1.pushed,
    })
    const task = elean.store.findTask(elean.store.project('web')!, pair!.r)!
    expect(task.title, did).toBe('Printer on floor 3 is out of toner')

    elean.store.editTask(task, { title: 'Toner replaced, printer works' }, 'always')
    await cycle()
    expect(elementum.store.find('tasks', 'it-requests', pair!.l)?.data.Title).toBe('Toner replaced, printer works')

    // and nothing echoes back afterwards
    const before = writeCount()
    await cycle()
    expect(writeCount() - before).toBe(0)
  })

  it('runs a reconcile that finds its mapping reconciling in this process after it, instead of skipping it as busy', async () => {
    // the daemon's passes of two connections reconcile the same mapping: a skip would leave the
    // second poll's changes to the next tick. A third caller shares the second's run.
    const signal = AbortSignal.timeout(60_000)
    const [first, second, third] = await Promise.all([app.reconcilePass({ signal }), app.reconcilePass({ signal }), app.reconcilePass({ signal })])
    expect(first[0]).toMatchObject({ busy: false, error: null })
    expect(second[0]).toMatchObject({ busy: false, error: null })
    expect(second[0]?.summary).not.toBeNull()
    expect(third[0]).toMatchObject({ busy: true, summary: null })
    // dry runs still get the lease's answer: busy while another process reconciles the mapping
    // (held here by hand: two calls of this process would race each other for the lease)
    const mapping = first[0]?.mappingId ?? ''
    const other = createStreamLeases(db.sql, { owner: 'another-process' })
    const release = deferred()
    const held = other.tryRun({ connection: '#mapping', stream: mapping }, () => release.promise)
    await until('the other process to hold the mapping', async () =>
      (await db.sql`select 1 from elsync.stream_leases where stream = ${mapping} and owner = 'another-process'`).length > 0 ? true : undefined,
    )
    expect((await app.reconcilePass({ signal, dryRun: true }))[0]?.busy).toBe(true)
    release.resolve()
    await held
    expect((await app.reconcilePass({ signal, dryRun: true }))[0]?.busy).toBe(false)
  })
})
