import { afterEach, describe, expect, it, vi } from 'vitest'
import type { EleanConnection } from '../../src/connectors/elean/index.js'
import { eleanConnectionSchema } from '../../src/connectors/elean/elean.config.js'
import { createElean, type EleanOptions } from '../../src/connectors/elean/index.js'
import { createPgMirror } from '../../src/db/mirror.store.js'
import { runStream } from '../../src/engine/poll.js'
import type { StreamRef } from '../../src/engine/types.js'
import { createHttpClient } from '../../src/http/client.js'
import type { RetryPolicy } from '../../src/http/retry.js'
import { startElean, type KeySpec, type StartedElean } from '../../src/sim/elean/index.js'
import { createTestDb } from '../support/db.js'
import { captureLogs } from '../support/logs.js'

const db = await createTestDb()
const { sql } = db
const mirror = createPgMirror(sql)
const realSetTimeout = globalThis.setTimeout
const realSleep = (ms: number) => new Promise<void>((r) => realSetTimeout(r, ms))

const sims: StartedElean[] = []
afterEach(async () => {
  vi.useRealTimers()
  await Promise.all(sims.splice(0).map((s) => s.close()))
})

let n = 0
async function harness(o: { count: number; perMinute?: number; retry?: Partial<RetryPolicy>; options?: EleanOptions; keys?: KeySpec[] }) {
  const sim = await startElean({ port: 0, perMinute: o.perMinute ?? 0, ...(o.keys ? { keys: o.keys } : {}) })
  sims.push(sim)
  const control = async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(`${sim.server.url}/_sim${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    const text = await res.text()
    return text ? JSON.parse(text) : undefined
  }
  await control('POST', '/seed', { project: 'web', count: o.count })
  const stream: StreamRef = { connection: `elean-limits-${++n}`, stream: 'web' }
  const apiKey = sim.credentials.apiKey as string
  // the config schema's own defaults, as connections.yaml would give them
  const config: EleanConnection = eleanConnectionSchema.parse({
    kind: 'elean',
    baseUrl: sim.baseUrl,
    auth: { mode: 'bearer', token: apiKey },
    deleteAfterMissedScans: 1,
    ...(o.perMinute ? { rateLimit: { perMinute: o.perMinute } } : {}),
    streams: { web: { project: 'web' } },
  })
  const logs = captureLogs()
  const http = createHttpClient(
    { name: stream.connection, baseUrl: config.baseUrl, auth: config.auth, timeoutMs: 60_000, rateLimit: config.rateLimit },
    { logger: logs.logger, redactor: logs.redactor, retry: { attempts: 3, baseMs: 10, maxMs: 50, ...o.retry } },
  )
  const connector = createElean({ name: stream.connection, config, http, logger: logs.logger }, o.options)
  const run = () => runStream(mirror, { stream, connector, mode: 'full', signal: AbortSignal.timeout(600_000), lookbackMs: 0, maxDeleteFraction: 0.1 })
  /** Every response the HTTP layer logged: when its request left, when it came back, its status. */
  const requests = () =>
    logs.lines
      .map((l) => JSON.parse(l) as { msg: string; time: number; ms: number; status: number; route: string; waitMs?: number })
      .filter((l) => l.msg === 'request')
      .map((l) => ({ sentAt: l.time - l.ms, doneAt: l.time, status: l.status, route: l.route }))
  const simStats = async () => (await control('GET', '/stats')) as { total: number; byRoute: Record<string, Record<string, number>> }
  return { sim, control, stream, connector, run, logs, requests, simStats, apiKey }
}

const count = (stats: { byRoute: Record<string, Record<string, number>> }, status: string) =>
  Object.values(stats.byRoute).reduce((sum, row) => sum + (row[status] ?? 0), 0)

/** After each 429, no request left before the Retry-After it carried (`waitMs` is what the client honoured). */
function assertNoRequestBeforeRetryAfter(reqs: { sentAt: number; doneAt: number; status: number }[], retryAfterMs: (i: number) => number) {
  reqs.forEach((r, i) => {
    if (r.status !== 429) return
    const allowedAt = r.doneAt + retryAfterMs(i)
    for (const later of reqs) if (later.sentAt > r.doneAt) expect(later.sentAt).toBeGreaterThanOrEqual(allowedAt)
  })
}

describe('Elean connector: rate budget', () => {
  it('spreads a run of more than 60 requests over the minutes the 60/min key allows', async () => {
    // 3 list pages + 70 comment reads = 73 requests against 60 per minute (simulator and connection alike)
    const h = await harness({ count: 250, perMinute: 60, options: { commentsPerScan: 70 } })
    // one fake clock for the client's budget and the simulator's window; it runs 50× faster than real time
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
    const started = Date.now()
    let done = false
    const running = h.run().finally(() => (done = true))
    while (!done) {
      await vi.advanceTimersByTimeAsync(250)
      await realSleep(5)
    }
    const r = await running
    const elapsed = Date.now() - started
    vi.useRealTimers()

    expect(r).toMatchObject({ status: 'succeeded', seen: 250 })
    const stats = await h.simStats()
    expect(count(stats, '200')).toBe(73)
    const reqs = h.requests()
    expect(reqs.length).toBe(stats.total)
    // the 61st request had to wait for the next minute
    expect(elapsed).toBeGreaterThanOrEqual(60_000)
    const ok = reqs.filter((x) => x.status === 200).sort((a, b) => a.sentAt - b.sentAt)
    expect(ok[60]!.sentAt - ok[0]!.sentAt).toBeGreaterThanOrEqual(60_000)
    // the budget's sliding window matches the server's: the server never had to refuse one
    expect(count(stats, '429')).toBe(0)
  })

  it('recovers from a 429 storm and sends nothing before each Retry-After has passed', async () => {
    // three refusals in a row need a fourth attempt
    const h = await harness({ count: 150, retry: { attempts: 4 }, options: { commentsPerScan: 0 } })
    await h.control('POST', '/faults', { kind: 'rate-limit', count: 3, retryAfterSeconds: 1, route: '/v1/public/web/tasks' })
    const started = Date.now()
    const r = await h.run()
    expect(r).toMatchObject({ status: 'succeeded', seen: 150 })
    const stats = await h.simStats()
    expect(stats.byRoute['GET /v1/public/:project/tasks']).toEqual({ '200': 2, '429': 3 })
    const reqs = h.requests()
    expect(reqs.map((x) => x.status)).toEqual([429, 429, 429, 200, 200])
    assertNoRequestBeforeRetryAfter(reqs, () => 1000)
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000)
  })
})

describe('Elean connector: secrets and access errors', () => {
  it('never writes the API key to logs, sync_runs.error or any mirror table', async () => {
    const h = await harness({ count: 120, options: { commentsPerScan: 5 } })
    const tasks = (await h.control('GET', '/tasks/web')).tasks as { id: string }[]
    await h.control('POST', `/tasks/web/${tasks[0]!.id}/comments`, { content: 'first!' })
    expect((await h.run()).status).toBe('succeeded')
    await h.control('POST', '/faults', { kind: 'status', status: 401, count: 1, route: '/v1/public/web/tasks' })
    const failed = await h.run()
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'unauthorized' } })
    expect(failed.error?.message).toMatch(/API key was refused \(401\)/)

    const secretish = [h.apiKey, h.apiKey.slice(3), Buffer.from(h.apiKey).toString('base64')]
    expect(h.logs.text()).toContain('GET /{project}/tasks')
    for (const s of secretish) expect(h.logs.text()).not.toContain(s)
    const errors = await sql<{ error: string | null }[]>`select error from elsync.sync_runs where connection = ${h.stream.connection}`
    expect(errors.some((e) => e.error?.includes('401'))).toBe(true)
    const tables = await sql<{ table_name: string }[]>`
      select table_name from information_schema.tables where table_schema = 'elsync' and table_type = 'BASE TABLE'`
    expect(tables.length).toBeGreaterThan(3)
    let mirrored = ''
    for (const { table_name } of tables) {
      const [row] = await sql<{ t: string | null }[]>`select string_agg(x::text, E'\n') as t from ${sql(`elsync.${table_name}`)} x`
      mirrored += row?.t ?? ''
    }
    expect(mirrored).toContain('first!')
    for (const s of secretish) expect(mirrored).not.toContain(s)
  })

  it('check names a refused key (401) and a key without access to the project (403)', async () => {
    const h = await harness({ count: 1, keys: [{ project: 'other' }] })
    const denied = await h.connector.check(AbortSignal.timeout(5000)).catch((e: unknown) => e)
    expect(denied).toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(/project web was denied \(403\).*task:read scope or is restricted to another project/),
    })
    await h.control('POST', '/faults', { kind: 'status', status: 401, count: 1 })
    const refused = await h.connector.check(AbortSignal.timeout(5000)).catch((e: unknown) => e)
    expect(refused).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/missing, invalid or expired/) })
    expect(String((refused as Error).message)).not.toContain(h.apiKey)
  })
})
