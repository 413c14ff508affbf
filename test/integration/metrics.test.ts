import { readFile } from 'node:fs/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { createPgReconcileStore } from '../../src/db/reconcile.store.js'
import { type Daemon, startDaemon } from '../../src/main.js'
import { packageVersion } from '../../src/version.js'
import { createTestDb } from '../support/db.js'
import { eleanDaemonWorld } from '../support/daemon.js'
import { until } from '../support/until.js'
import { request, seedLinks } from '../support/write.js'

const db = await createTestDb()
// `broken`: every request refused, its stream never succeeds
const { sim, ctx } = await eleanDaemonWorld(db, { logLevel: 'warn', broken: true })
let daemon: Daemon | undefined
afterAll(async () => {
  await daemon?.stop()
  await sim.close()
})

/** One sample's value, or undefined when the metric has no sample with exactly these labels. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',')
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const have = (m[2] ?? '')
      .split(/,(?=[a-z_]+=")/)
      .filter(Boolean)
      .sort()
      .join(',')
    if (have === want) return Number(m[3])
  }
  return undefined
}

describe('metrics', () => {
  it('lists every metric from start-up and counts what the daemon did', async () => {
    // the start-up poll meets one 429 and waits out its Retry-After
    await fetch(`${sim.server.url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ kind: 'rate-limit', retryAfterSeconds: 1, count: 1 }) })
    daemon = await startDaemon(ctx, { say: () => {} })
    const url = daemon.adminUrl.replace('0.0.0.0', '127.0.0.1')
    const scrape = async () => {
      const res = await fetch(`${url}/metrics`)
      expect(res.status).toBe(200)
      return res.text()
    }

    // before any run has finished: the series are there, at zero
    const first = await scrape()
    const stream = { connection: 'elean', stream: 'web' }
    expect(sample(first, 'elsync_build_info', { version: packageVersion(), node: process.version })).toBe(1)
    expect(sample(first, 'elsync_database_up')).toBe(1)
    expect(sample(first, 'elsync_records_changed_total', stream)).toBe(0)
    expect(sample(first, 'elsync_http_retries_total', { connection: 'broken', reason: 'retry-after' })).toBe(0)
    expect(sample(first, 'elsync_http_rate_limited_total', { connection: 'broken' })).toBe(0)
    for (const state of ['pending', 'failed', 'dead']) expect(sample(first, 'elsync_outbox_rows', { state })).toBe(0)
    expect(sample(first, 'elsync_outbox_oldest_pending_age_seconds')).toBe(0)
    expect(sample(first, 'elsync_stream_consecutive_failures', stream)).toBe(0)

    // the first run of a stream with no cursor yet reads it in full
    await daemon.pollAll()
    const after = await scrape()
    expect(sample(after, 'elsync_records_read_total', stream)).toBe(30)
    expect(sample(after, 'elsync_records_changed_total', stream)).toBe(30)
    expect(sample(after, 'elsync_stream_runs_total', { ...stream, mode: 'full', status: 'succeeded' })).toBe(1)
    expect(sample(after, 'elsync_stream_run_duration_seconds_count', { ...stream, mode: 'full' })).toBe(1)
    // the one 429 met whichever connection asked first: both poll this simulator at start-up
    const limited = ['elean', 'broken'].map((connection) => sample(after, 'elsync_http_rate_limited_total', { connection }) ?? 0)
    expect(limited[0]! + limited[1]!).toBe(1)
    const hit = limited[0] === 1 ? 'elean' : 'broken'
    expect(sample(after, 'elsync_http_retries_total', { connection: hit, reason: 'retry-after' })).toBe(1)
    expect(sample(after, 'elsync_http_requests_total', { connection: hit, route: 'GET /{project}/tasks', status: '429' })).toBe(1)
    // per-stream health, from the database: one stream fine, the other never succeeded
    const lastSuccess = sample(after, 'elsync_stream_last_success_timestamp_seconds', stream) ?? 0
    expect(Math.abs(lastSuccess - Date.now() / 1000)).toBeLessThan(60)
    expect(sample(after, 'elsync_stream_lag_seconds', stream)).toBeLessThan(60)
    const broken = { connection: 'broken', stream: 'web' }
    expect(sample(after, 'elsync_stream_consecutive_failures', broken)).toBe(1)
    expect(sample(after, 'elsync_stream_last_success_timestamp_seconds', broken)).toBe(0)
    expect(sample(after, 'elsync_stream_lag_seconds', broken)).toBeUndefined()
  })

  it('reads the outbox backlog and open conflicts from the database at each scrape', async () => {
    const url = daemon!.adminUrl.replace('0.0.0.0', '127.0.0.1')
    const links = await seedLinks(db.sql, 'm1', 3)
    await createPgReconcileStore(db.sql).transaction(async (tx) => {
      for (const l of links) await tx.enqueue(request('m1', l))
    })
    await db.sql`update elsync.outbox set state = 'dead', created_at = now() - interval '1 hour' where link_id = ${links[0]!}`
    await db.sql`update elsync.outbox set created_at = now() - interval '10 minutes' where link_id = ${links[1]!}`
    await db.sql`
      insert into elsync.field_conflicts (mapping_id, link_id, field, policy, state) values ('m1', ${links[2]!}, 'title', 'manual', 'open')`
    const text = await (await fetch(`${url}/metrics`)).text()
    expect(sample(text, 'elsync_outbox_rows', { state: 'pending' })).toBe(2)
    expect(sample(text, 'elsync_outbox_rows', { state: 'dead' })).toBe(1)
    // the dead row is parked, not waiting: the oldest waiting one is 10 minutes old
    expect(sample(text, 'elsync_outbox_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(600)
    expect(sample(text, 'elsync_outbox_oldest_pending_age_seconds')).toBeLessThan(700)
    expect(sample(text, 'elsync_conflicts_open', { mapping: 'm1' })).toBe(1)
  })

  it('answers the scrape when the database is slow, saying so, and recovers', async () => {
    const url = daemon!.adminUrl.replace('0.0.0.0', '127.0.0.1')
    const blocked = db.sql.reserve()
    const holder = await blocked
    await holder`begin`
    await holder`lock table elsync.outbox in access exclusive mode`
    try {
      const started = Date.now()
      const res = await fetch(`${url}/metrics`)
      expect(res.status).toBe(200)
      const text = await res.text()
      expect(Date.now() - started).toBeLessThan(5_000)
      expect(sample(text, 'elsync_database_up')).toBe(0)
      // the rest of the scrape is there
      expect(sample(text, 'elsync_records_read_total', { connection: 'elean', stream: 'web' })).toBe(30)
    } finally {
      await holder`rollback`
      holder.release()
    }
    await until('the database to be read again', async () =>
      sample(await (await fetch(`${url}/metrics`)).text(), 'elsync_database_up') === 1 ? true : undefined,
    )
  })

  it('has an example alert rule in docs/operations.md that uses only metrics the daemon exports', async () => {
    const url = daemon!.adminUrl.replace('0.0.0.0', '127.0.0.1')
    const text = await (await fetch(`${url}/metrics`)).text()
    const docs = await readFile('docs/operations.md', 'utf8')
    const rules = /```yaml no-test\n(groups:[\s\S]*?)```/.exec(docs)?.[1]
    expect(rules, 'a Prometheus rule file (groups:) in docs/operations.md').toBeDefined()
    const used = new Set(rules!.match(/\belsync_[a-z_]+/g))
    expect(used.size).toBeGreaterThan(1)
    for (const name of used) expect(text, `${name} is exported`).toMatch(new RegExp(`^${name}(\\{| )`, 'm'))
  })
})
