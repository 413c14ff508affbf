import { afterAll, describe, expect, it } from 'vitest'
import { type App, createApp } from '../../src/app.js'
import type { EnvSettings } from '../../src/config/env.js'
import { type Config, connectionsFileSchema, mappingFileSchema } from '../../src/config/schema.js'
import { startElementum } from '../../src/sim/elementum/index.js'
import { vendorWrites } from '../support/sync-cycle.js'
import { createTestDb } from '../support/db.js'
import { captureLogs } from '../support/logs.js'
import { simControl } from '../support/sim-control.js'

/**
 * Related items and watchers between two Elementum workspaces (two simulators, so that each
 * has its own people): tasks of `it-requests` in workspace A are created as tasks of `ops` in
 * workspace B (`create: left-to-right`), related items are copied both ways, watchers both ways.
 * Each cycle polls fully: relating records and watching them leave `Updated on` alone, so an
 * incremental window would not read them (child polling of unchanged records is its own issue).
 */
const db = await createTestDb()
const a = await startElementum({ port: 0, seed: 11 })
const b = await startElementum({ port: 0, seed: 12 })
afterAll(async () => {
  await Promise.all([a.close(), b.close()])
})
const nsA = a.store.ensureNamespace('tasks', 'it-requests')
b.store.ensureNamespace('tasks', 'ops')
for (const title of ['Laptop for Ada', 'VPN access', 'Printer toner', 'Badge for Alan']) a.store.create(nsA, { Title: title, Status: 'Open' })
// out of the mapping's scope (its filter) until it is reopened
a.store.create(nsA, { Title: 'Old monitor', Status: 'Cancelled' })

const logs = captureLogs([a.credentials.clientSecret!, b.credentials.clientSecret!])
const side = (sim: typeof a, stream: string, alias: string) => ({
  kind: 'elementum',
  baseUrl: sim.baseUrl,
  auth: { mode: 'oauth2-client-credentials', clientId: sim.credentials.clientId, clientSecret: sim.credentials.clientSecret },
  streams: { [stream]: { recordType: 'tasks', alias } },
})
const { connections } = connectionsFileSchema.parse({
  connections: { 'elementum-a': side(a, 'it-requests', 'it-requests'), 'elementum-b': side(b, 'ops', 'ops') },
})
const mapping = mappingFileSchema.parse({
  id: 'a-to-b',
  left: { connection: 'elementum-a', stream: 'it-requests', filter: 'Status!=Cancelled' },
  right: { connection: 'elementum-b', stream: 'ops' },
  create: 'left-to-right',
  fields: [
    { left: 'Title', right: 'Title' },
    { left: 'Description', right: 'Description' },
    { left: 'Status', right: 'Status' },
  ],
  related: 'both',
  watchers: 'both',
})
const config: Config = { dir: '.', connections, mappings: [mapping] }
const env: EnvSettings = { databaseUrl: db.url, configDir: '.', adminPort: 0, logLevel: 'debug', dataDir: '.elsync' }
const app: App = createApp({ env, config, logger: logs.logger, redactor: logs.redactor }, { db })

const writeCount = () => vendorWrites(a.server.stats()) + vendorWrites(b.server.stats())

/** One sync: a full poll of both streams, reconcile, push. */
async function cycle() {
  const signal = AbortSignal.timeout(120_000)
  const polled = await app.pollPass({ mode: 'full', signal })
  for (const r of polled) expect(r.status, `${r.stream.connection}: ${JSON.stringify(r.error)}`).toBe('succeeded')
  const reconciled = await app.reconcilePass({ signal })
  for (const r of reconciled) expect(r.error, JSON.stringify(r.error)).toBeNull()
  const pushed = await app.executor.drain(signal)
  expect(pushed.dead, logs.text().slice(-3000)).toBe(0)
  return { reconciled, pushed }
}

/** A's task by title, and its counterpart in B by the mapping's link. */
async function pair(title: string): Promise<{ left: string; right: string | null }> {
  const left = nsA.order.map((seq) => nsA.bySeq.get(seq)!).find((r) => r.data.Title === title)!.data.id!
  const [link] = await db.sql<{ right: string | null }[]>`
    select right_remote_id as right from elsync.links where mapping_id = 'a-to-b' and left_remote_id = ${left}`
  return { left, right: link?.right ?? null }
}
const relatedInB = (id: string) => b.store.find('tasks', 'ops', id)!.related.map((r) => r.id)
const relatedInA = (id: string) => a.store.find('tasks', 'it-requests', id)!.related.map((r) => r.id)

describe('related items and watchers, Elementum ↔ Elementum', () => {
  it('copies a relation between two linked records to the other side in one sync, and nothing comes back', { timeout: 120_000 }, async () => {
    await cycle()
    const laptop = await pair('Laptop for Ada')
    const vpn = await pair('VPN access')
    expect(laptop.right).not.toBeNull()
    expect(vpn.right).not.toBeNull()

    a.store.relate(a.store.find('tasks', 'it-requests', laptop.left)!, { id: vpn.left })
    const c = await cycle()
    expect(c.reconciled[0]?.summary?.plan).toContain(`relate elementum-b ${laptop.right} → ${vpn.right}`)
    expect(relatedInB(laptop.right!)).toEqual([vpn.right])

    // the copy, read back from B, is known as the copy: nothing is related back in A
    const before = writeCount()
    await cycle()
    await cycle()
    expect(writeCount() - before).toBe(0)
    expect(relatedInA(laptop.left)).toEqual([vpn.left])
    const rows = await db.sql`select state, origin, left_remote_id, right_remote_id from elsync.related_item_sync where mapping_id = 'a-to-b'`
    expect(rows).toEqual([{ state: 'copied', origin: 'left', left_remote_id: laptop.left, right_remote_id: laptop.right }])
  })

  it('holds a relation whose other end is not linked, and copies it once that link exists', { timeout: 120_000 }, async () => {
    const toner = await pair('Printer toner')
    const monitor = await pair('Old monitor')
    expect(monitor.right).toBeNull()
    a.store.relate(a.store.find('tasks', 'it-requests', toner.left)!, { id: monitor.left })
    await cycle()
    expect(relatedInB(toner.right!)).toEqual([])
    const [waiting] = await db.sql`
      select state, waiting_for from elsync.related_item_sync where mapping_id = 'a-to-b' and left_related_id = ${monitor.left}`
    expect(waiting).toEqual({ state: 'waiting', waiting_for: 'related record' })

    // reopened: in scope, linked (its create is pushed), then the relation follows
    a.store.update(a.store.find('tasks', 'it-requests', monitor.left)!, { Status: 'Open' })
    await cycle()
    const linked = await pair('Old monitor')
    expect(linked.right).not.toBeNull()
    await cycle()
    expect(relatedInB(toner.right!)).toEqual([linked.right])
    const [copied] = await db.sql`select state from elsync.related_item_sync where mapping_id = 'a-to-b' and left_related_id = ${monitor.left}`
    expect(copied).toEqual({ state: 'copied' })
  })

  it('removes a relation on the other side when it is removed on either (related: both)', { timeout: 120_000 }, async () => {
    const laptop = await pair('Laptop for Ada')
    const vpn = await pair('VPN access')
    // removed where it was copied to: the original goes too
    await simControl(b.server, 'DELETE', `/records/tasks/ops/${laptop.right}/related/${vpn.right}`)
    await cycle()
    expect(relatedInA(laptop.left)).toEqual([])
    const toner = await pair('Printer toner')
    const monitor = await pair('Old monitor')
    // removed where it began: the copy goes
    a.store.unrelate(a.store.find('tasks', 'it-requests', toner.left)!, monitor.left)
    await cycle()
    expect(relatedInB(toner.right!)).toEqual([])

    // once both mirrors show them gone, their pairs are too, and nothing is related again
    await cycle()
    const before = writeCount()
    await cycle()
    expect(writeCount() - before).toBe(0)
    expect(relatedInA(laptop.left)).toEqual([])
    expect(relatedInB(laptop.right!)).toEqual([])
    expect(await db.sql`select * from elsync.related_item_sync where mapping_id = 'a-to-b'`).toEqual([])
    const [unrelates] = await db.sql<{ n: number }[]>`select count(*)::int as n from elsync.writes where op = 'unrelate' and state = 'sent'`
    expect(unrelates?.n).toBe(2)
  })

  it('copies a watcher; one the other workspace does not know is skipped and recorded, not an error', { timeout: 120_000 }, async () => {
    await simControl(a.server, 'POST', '/users', { email: 'only.in.a@example.com', firstName: 'Only', lastName: 'InA' })
    const badge = await pair('Badge for Alan')
    for (const email of ['grace.hopper@example.com', 'only.in.a@example.com'])
      await simControl(a.server, 'POST', `/records/tasks/it-requests/${badge.left}/watchers`, { email })
    const c = await cycle()
    expect(c.pushed.failed).toBe(0)
    expect(b.store.find('tasks', 'ops', badge.right!)!.watchers.map((w) => w.email)).toEqual(['grace.hopper@example.com'])
    const rows = await db.sql`
      select email, state, reason from elsync.watcher_sync where mapping_id = 'a-to-b' and remote_id = ${badge.right} order by email`
    expect(rows).toEqual([
      { email: 'grace.hopper@example.com', state: 'copied', reason: null },
      { email: 'only.in.a@example.com', state: 'skipped', reason: 'user_unknown: elementum-b has no user only.in.a@example.com: watcher not copied' },
    ])
    // the record itself is in sync, and neither watcher is tried again (nor copied back)
    const [state] = await db.sql`select sync_state from elsync.record_sync_state where connection = 'elementum-a' and remote_id = ${badge.left}`
    expect(state).toEqual({ sync_state: 'linked' })
    const before = writeCount()
    await cycle()
    await cycle()
    expect(writeCount() - before).toBe(0)
    expect(a.store.find('tasks', 'it-requests', badge.left)!.watchers.map((w) => w.email)).toEqual(['grace.hopper@example.com', 'only.in.a@example.com'])
  })
})
