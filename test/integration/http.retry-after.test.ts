import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createHttpClient } from '../../src/http/client.js'
import { startSimServer, type SimHandler } from '../../src/sim/common/server.js'
import { captureLogs } from '../support/logs.js'

/**
 * "No request ever goes out before a `Retry-After` allows it", measured where it matters:
 * on the server, by the arrival time of every request.
 */

const RETRY = { attempts: 3, baseMs: 10, maxMs: 50 }
/** Timer granularity between the server's clock reading and the client's sleep. */
const SLACK_MS = 50

async function serve(handler: SimHandler) {
  const server = await startSimServer({
    name: 'retry-after',
    errorBody: (status, message) => ({ status, message }),
    routes: [{ method: 'GET', pattern: '/items/:n', handler }],
  })
  onTestFinished(() => server.close())
  return server
}

function client(baseUrl: string, concurrency?: number) {
  const logs = captureLogs()
  return createHttpClient(
    { name: 'retry-after', baseUrl, auth: { mode: 'none' }, timeoutMs: 5_000, ...(concurrency ? { rateLimit: { concurrency } } : {}) },
    { logger: logs.logger, redactor: logs.redactor, retry: RETRY },
  )
}

describe('Retry-After', () => {
  it('waits the 1 s a 503 asks for before retrying, though the backoff alone would be at most 50 ms', async () => {
    const arrivals: number[] = []
    let answeredAt = 0
    const server = await serve(() => {
      arrivals.push(performance.now())
      if (arrivals.length === 1) {
        answeredAt = performance.now()
        return { status: 503, body: { message: 'restarting' }, headers: { 'retry-after': '1' } }
      }
      return { status: 200, body: { ok: true } }
    })
    const res = await client(server.url).request<{ ok: boolean }>({ path: 'items/1', route: 'GET /items/{n}' })
    expect(res).toMatchObject({ status: 200, body: { ok: true } })
    expect(arrivals).toHaveLength(2)
    expect((arrivals[1] as number) - answeredAt).toBeGreaterThanOrEqual(1_000 - SLACK_MS)
  })

  it('holds every request of the connection, not only the one that got the 429, until Retry-After has passed', async () => {
    // 8 requests through a budget of concurrency 4: the first 4 leave at once. The first to
    // arrive is answered 429 + Retry-After: 1 once all 4 are in (so none is still on its way),
    // and the other three 200 slightly later (so the client has seen the 429 when their slots
    // free up). From then on, nothing may arrive for a second: neither the 4 queued requests
    // nor the retry.
    const arrivals: { at: number; n: string }[] = []
    let firstWave: () => void = () => {}
    const wave = new Promise<void>((resolve) => (firstWave = resolve))
    let sent429 = 0
    const server = await serve(async (req) => {
      const index = arrivals.push({ at: performance.now(), n: req.params.n ?? '' }) - 1
      if (arrivals.length === 4) firstWave()
      if (index >= 4) return { status: 200, body: { n: req.params.n } }
      await Promise.race([wave, sleep(2_000)])
      if (index === 0) {
        sent429 = performance.now()
        return { status: 429, body: { message: 'slow down' }, headers: { 'retry-after': '1' } }
      }
      await sleep(50)
      return { status: 200, body: { n: req.params.n } }
    })
    const http = client(server.url, 4)
    const all = await Promise.all(Array.from({ length: 8 }, (_, i) => http.request<{ n: string }>({ path: `items/${i + 1}`, route: 'GET /items/{n}' })))
    expect(all.map((r) => r.status)).toEqual(Array(8).fill(200))
    expect(sent429).toBeGreaterThan(0)
    const before = arrivals.filter((a) => a.at <= sent429)
    const after = arrivals.filter((a) => a.at > sent429)
    // the budget's concurrency held the first wave to 4
    expect(before).toHaveLength(4)
    // the 4 queued requests and the retry of the refused one, none before Retry-After allowed it
    expect(after).toHaveLength(5)
    const early = after.filter((a) => a.at - sent429 < 1_000 - SLACK_MS).map((a) => `request ${a.n} after ${Math.round(a.at - sent429)} ms`)
    expect(early).toEqual([])
  })

  it('extends the hold when a second 429 asks for longer, for queued requests and for the retry already waiting', async () => {
    // as above, but a second request of the first wave is refused 300 ms later with Retry-After: 2;
    // the first refusal's retry (due after 1 s) and the queued requests must wait for that one
    const arrivals: { at: number; n: string }[] = []
    let firstWave: () => void = () => {}
    const wave = new Promise<void>((resolve) => (firstWave = resolve))
    let first429 = 0
    let second429 = 0
    const server = await serve(async (req) => {
      const index = arrivals.push({ at: performance.now(), n: req.params.n ?? '' }) - 1
      if (arrivals.length === 4) firstWave()
      if (index >= 4) return { status: 200, body: { n: req.params.n } }
      await Promise.race([wave, sleep(2_000)])
      if (index === 0) {
        first429 = performance.now()
        return { status: 429, body: { message: 'slow down' }, headers: { 'retry-after': '1' } }
      }
      if (index === 1) {
        await sleep(300)
        second429 = performance.now()
        return { status: 429, body: { message: 'slow down more' }, headers: { 'retry-after': '2' } }
      }
      await sleep(50)
      return { status: 200, body: { n: req.params.n } }
    })
    const http = client(server.url, 4)
    const all = await Promise.all(Array.from({ length: 8 }, (_, i) => http.request<{ n: string }>({ path: `items/${i + 1}`, route: 'GET /items/{n}' })))
    expect(all.map((r) => r.status)).toEqual(Array(8).fill(200))
    expect(second429 - first429).toBeGreaterThanOrEqual(250)
    const after = arrivals.filter((a) => a.at > first429)
    // 4 queued requests and 2 retries
    expect(after).toHaveLength(6)
    const early = after.filter((a) => a.at - second429 < 2_000 - SLACK_MS).map((a) => `request ${a.n} ${Math.round(a.at - second429)} ms after the second 429`)
    expect(early).toEqual([])
  })
})
