import { afterAll, describe, expect, it } from 'vitest'
import type { EnvSettings } from '../../src/config/env.js'
import { connectionsFileSchema } from '../../src/config/schema.js'
import { createConnector } from '../../src/connectors/index.js'
import { createDb } from '../../src/db/client.js'
import { createPgMirror } from '../../src/db/mirror.store.js'
import { runStream } from '../../src/engine/poll.js'
import { startDaemon } from '../../src/main.js'
import { startElean } from '../../src/sim/elean/index.js'
import { createTestDb } from '../support/db.js'
import { captureLogs } from '../support/logs.js'
import { startPgProxy } from '../support/pg-proxy.js'

/**
 * The database going away under elsync: backends terminated mid-transaction
 * (pg_terminate_backend), and the server refusing connections for a while. Nothing is lost,
 * nothing is written twice, and the daemon stays up and resumes by itself.
 */
const db = await createTestDb()
const daemonDb = await createTestDb()
// two simulators: each key has its own 60 requests a minute, and each test spends half of them
const sim = await startElean({ port: 0 })
const daemonSim = await startElean({ port: 0 })
afterAll(async () => {
  await sim.close()
  await daemonSim.close()
})

const logs = captureLogs([sim.credentials.apiKey!, daemonSim.credentials.apiKey!])
const connectionsOf = (poll: string, s = sim, extra: Record<string, unknown> = {}) =>
  connectionsFileSchema.parse({
    connections: {
      elean: {
        kind: 'elean',
        baseUrl: s.baseUrl,
        auth: { mode: 'bearer', token: s.credentials.apiKey },
        poll,
        rateLimit: { perMinute: 100_000 },
        streams: { web: { project: 'web' } },
        ...extra,
      },
    },
  }).connections

async function until<T>(probe: () => Promise<T | undefined | false>, what: string, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await probe().catch(() => undefined)
    if (v !== undefined && v !== false) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const killAll = (app: string) => db.sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${app} and pid <> pg_backend_pid()`

describe('a terminated backend during a sync', () => {
  it('saves every page once: the page transaction that died is run again', async () => {
    sim.store.seed('web', 1_000, 7)
    const victim = createDb(db.url, { max: 3, applicationName: 'elsync-victim' })
    // a full scan saves its 10 pages in two transactions of five (SCAN_BATCH_PAGES); `attempt`
    // counts the transactions that got past their writes (a killed one does too: its steps run,
    // its commit fails)
    let attempt = 0
    const kills = new Set(['existing@0', 'records@1', 'changes@2'])
    const mirror = createPgMirror(victim.sql, {
      afterStep: async (step) => {
        // kill every connection of the pool before the first batch's writes, in the middle of the
        // second batch's transaction, and again in the middle of its retry (once each)
        if (kills.delete(`${step}@${attempt}`)) await killAll('elsync-victim')
        if (step === 'cursor') attempt += 1
      },
    })
    const connections = connectionsOf('0 0 1 1 *')
    const connector = createConnector('elean', connections.elean!, { logger: logs.logger, redactor: logs.redactor })
    try {
      const result = await runStream(mirror, {
        stream: { connection: 'elean', stream: 'web' },
        connector,
        mode: 'full',
        signal: AbortSignal.timeout(120_000),
        lookbackMs: 0,
        maxDeleteFraction: 0.1,
      })
      expect(result.status, JSON.stringify(result.error)).toBe('succeeded')
      const [counts] = await db.sql<{ records: number; history: number; versions: number }[]>`
        select (select count(*)::int from elsync.records where connection = 'elean') as records,
               (select count(*)::int from elsync.record_changes where connection = 'elean') as history,
               (select count(*)::int from elsync.records where connection = 'elean' and version <> 1) as versions`
      // every task once, one insert row each, nothing applied twice
      expect(counts).toEqual({ records: 1_000, history: 1_000, versions: 0 })
      const [run] = await db.sql`select status, pages from elsync.sync_runs where id = ${result.runId}`
      expect(run).toMatchObject({ status: 'succeeded', pages: 10 })
      expect(kills.size).toBe(0)
    } finally {
      await victim.close()
    }
  })
})

describe('the daemon while the database goes away', () => {
  it('keeps serving /healthz, says 503 on /readyz, and resumes polling when the database is back', { timeout: 240_000 }, async () => {
    const proxy = await startPgProxy(daemonDb.url)
    daemonSim.store.seed('web', 20, 9)
    const env: EnvSettings = {
      databaseUrl: proxy.url,
      configDir: '.',
      adminPort: 0,
      logLevel: 'warn',
      dataDir: '.elsync',
      adminToken: 'a-long-enough-admin-token',
    }
    // polls every 2 seconds, on its own
    const daemon = await startDaemon(
      {
        env,
        config: {
          dir: '.',
          connections: connectionsOf('*/2 * * * * *', daemonSim, {
            commentsPerScan: 0,
          }) /* polls every 2 s: no comment reads, or the key's 60/min would be the bottleneck */,
          mappings: [],
        },
        logger: logs.logger,
        redactor: logs.redactor,
      },
      { say: () => {} },
    )
    const url = daemon.adminUrl.replace('0.0.0.0', '127.0.0.1')
    const live = async () =>
      (await daemonDb.sql<{ n: number }[]>`select count(*)::int as n from elsync.records_current where connection = 'elean' and stream = 'web'`)[0]?.n
    try {
      const total = daemonSim.store.list(daemonSim.store.project('web')!, { page: 1, limit: 100_000 }).total
      await until(async () => (await live()) === total, 'the first polls to mirror every task')

      await proxy.down()
      expect((await fetch(`${url}/healthz`)).status).toBe(200)
      await until(async () => (await fetch(`${url}/readyz`)).status === 503, '/readyz to say 503')
      // a human edits a task while elsync cannot reach its database
      const project = daemonSim.store.project('web')!
      const task = daemonSim.store.list(project, { page: 1, limit: 1 }).rows[0]!
      daemonSim.store.editTask(task, { title: 'Edited while the database was away' }, 'always')
      // scheduled polls fail while the database is away (no lease can be taken, so the API is not
      // read for nothing); the process is still up
      const before = logs.text().split('ECONNREFUSED').length
      await until(async () => logs.text().split('ECONNREFUSED').length > before + 1 || undefined, 'failed polls while the database is away')
      expect((await fetch(`${url}/healthz`)).status).toBe(200)

      await proxy.up()
      await until(async () => (await fetch(`${url}/readyz`)).status === 200, '/readyz to say 200 again')
      await until(
        async () =>
          (await daemonDb.sql`select 1 from elsync.records_current where remote_id = ${task.id} and title = 'Edited while the database was away'`).length === 1,
        'the edit to be mirrored by a poll the daemon ran on its own',
      )

      // every connection of the daemon terminated at once: it stays up and goes on
      daemonSim.store.editTask(task, { title: 'Edited after the backends were terminated' }, 'always')
      await daemonDb.sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${daemonDb.name} and pid <> pg_backend_pid() and application_name like 'elsync%' and application_name <> 'elsync-test'`
      await until(
        async () =>
          (await daemonDb.sql`select 1 from elsync.records_current where remote_id = ${task.id} and title = 'Edited after the backends were terminated'`)
            .length === 1,
        'polling to resume after every backend was terminated',
      )
      expect((await fetch(`${url}/healthz`)).status).toBe(200)
    } finally {
      await daemon.stop()
      await proxy.close()
    }
  })
})
