import { afterAll, describe, expect, it } from 'vitest'
import { startDaemon, type Daemon } from '../../src/main.js'
import { createTestDb } from '../support/db.js'
import { eleanDaemonWorld } from '../support/daemon.js'
import { until } from '../support/until.js'

const db = await createTestDb()
const { sim, logs, ctx } = await eleanDaemonWorld(db, { logLevel: 'debug' })
let daemon: Daemon
afterAll(async () => {
  await daemon?.stop()
  await sim.close()
})

describe('the daemon', () => {
  it('serves health, readiness and metrics, guards /v1, polls at start-up, and stops idempotently', async () => {
    daemon = await startDaemon(ctx, { say: () => {} })
    const url = daemon.adminUrl.replace('0.0.0.0', '127.0.0.1')
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' })
    expect((await fetch(`${url}/readyz`)).status).toBe(200)
    expect((await fetch(`${url}/v1/streams`)).status).toBe(401)
    const wrong = await fetch(`${url}/v1/streams`, { headers: { authorization: 'Bearer wrong-token-of-some-length' } })
    expect(await wrong.json()).toEqual({ error: { code: 'unauthorized', message: 'missing or invalid admin token' } })

    // the schedule's first tick is months away: the start-up pass polls anyway
    await daemon.pollAll()
    const [row] = await db.sql`select count(*)::int as n from elsync.records_current where connection = 'elean'`
    expect(row?.n).toBe(30)
    const metrics = await (await fetch(`${url}/metrics`)).text()
    expect(metrics).toMatch(/elsync_http_requests_total\{connection="elean",route="GET \/\{project\}\/tasks",status="200"\} 1/)
    expect(logs.text()).not.toContain(sim.credentials.apiKey)

    await daemon.stop()
    await daemon.stop()
    await expect(fetch(`${url}/healthz`)).rejects.toThrow()
  })

  it('records a run cut short by shutdown as interrupted', async () => {
    // a long Retry-After holds the start-up run in flight until the daemon stops
    await fetch(`${sim.server.url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ kind: 'rate-limit', retryAfterSeconds: 60, count: 1 }) })
    const stopping = await startDaemon(ctx, { say: () => {} })
    const polled = stopping.pollAll()
    await until('a run in flight', async () => ((await db.sql`select 1 from elsync.sync_runs where status = 'running'`).length > 0 ? true : undefined))
    await until('the rate-limit wait', () => (logs.text().includes('"waitMs":60000') ? true : undefined))
    await stopping.stop()
    await polled
    await fetch(`${sim.server.url}/_sim/faults`, { method: 'DELETE' })
    const [last] = await db.sql`select status, error from elsync.sync_runs order by id desc limit 1`
    expect(last).toEqual({ status: 'interrupted', error: 'interrupted: elsync is shutting down' })
  })
})
