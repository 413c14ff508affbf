import { performance } from 'node:perf_hooks'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createHttpClient, type HttpClientDeps } from '../../src/http/client.js'
import { HttpStatusError, RateLimitedError } from '../../src/http/errors.js'
import type { WaitEvent } from '../../src/http/types.js'
import { startSimServer, type SimHandler } from '../../src/sim/common/server.js'
import { captureLogs } from '../support/logs.js'

/**
 * Which failures the connection layer repeats, how long it waits, and that it says so:
 * 5xx on idempotent requests, never a POST that may have been processed, a Retry-After
 * beyond the connection's cap failing at once with the time the API accepts requests again.
 */

const RETRY = { attempts: 3, baseMs: 10, maxMs: 50 }

async function serve(handler: SimHandler) {
  const server = await startSimServer({
    name: 'http-faults',
    errorBody: (status, message) => ({ status, message }),
    routes: [
      { method: 'GET', pattern: '/items/:n', handler },
      { method: 'POST', pattern: '/items/:n', handler },
    ],
  })
  onTestFinished(() => server.close())
  return server
}

function client(baseUrl: string, over: { maxRetryAfterSeconds?: number; deps?: Partial<HttpClientDeps> } = {}) {
  const logs = captureLogs()
  const events: WaitEvent[] = []
  const http = createHttpClient(
    {
      name: 'flaky',
      baseUrl,
      auth: { mode: 'none' },
      timeoutMs: 5_000,
      ...(over.maxRetryAfterSeconds !== undefined ? { maxRetryAfterSeconds: over.maxRetryAfterSeconds } : {}),
    },
    { logger: logs.logger, redactor: logs.redactor, retry: RETRY, onWait: (e) => events.push(e), ...over.deps },
  )
  return { http, logs, events }
}

describe('retries by status and method', () => {
  it('retries a GET answered 500 ("try again later") and returns the answer of the next attempt', async () => {
    let calls = 0
    const server = await serve(() => (++calls === 1 ? { status: 500, body: { message: 'Try again later' } } : { status: 200, body: { ok: true } }))
    const { http, events } = client(server.url)
    await expect(http.request({ path: 'items/1', route: 'GET /items/{n}' })).resolves.toMatchObject({ status: 200, body: { ok: true } })
    expect(calls).toBe(2)
    expect(events).toEqual([expect.objectContaining({ connection: 'flaky', reason: 'retry', attempt: 1, of: 3, code: 'HTTP 500', status: 500 })])
  })

  it('never retries a POST answered 500: it may have been processed', async () => {
    let calls = 0
    const server = await serve(() => (++calls, { status: 500, body: { message: 'boom' } }))
    const { http, events } = client(server.url)
    const err = await http.request({ method: 'POST', path: 'items/1', json: { a: 1 }, route: 'POST /items/{n}' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HttpStatusError)
    expect(err).toMatchObject({ status: 500, code: 'server_error', retryable: true })
    expect(calls).toBe(1)
    expect(events).toEqual([])
  })

  it('does not repeat a 501, which no retry will change', async () => {
    let calls = 0
    const server = await serve(() => (++calls, { status: 501, body: { message: 'not implemented' } }))
    const { http } = client(server.url)
    await expect(http.request({ path: 'items/1', route: 'GET /items/{n}' })).rejects.toMatchObject({ status: 501, retryable: false })
    expect(calls).toBe(1)
  })
})

describe('Retry-After beyond the cap', () => {
  it('fails fast with rate_limited naming when the API accepts requests again, and holds the whole connection until then', async () => {
    let calls = 0
    const server = await serve(() => (++calls, { status: 429, body: { message: 'quota exhausted' }, headers: { 'retry-after': '3600' } }))
    const { http, events } = client(server.url, { maxRetryAfterSeconds: 2 })
    const started = performance.now()
    const before = Date.now()
    const err = await http.request({ path: 'items/1', route: 'GET /items/{n}' }).catch((e: unknown) => e)
    expect(performance.now() - started).toBeLessThan(30_000) // an hour was asked for: no wait at all happened
    expect(err).toBeInstanceOf(RateLimitedError)
    const e = err as RateLimitedError
    expect(e).toMatchObject({ code: 'rate_limited', retryable: false })
    expect(e.retryAt.getTime()).toBeGreaterThanOrEqual(before + 3_600_000 - 1_000)
    expect(e.message).toMatch(/answered 429 with Retry-After 3600 s, more than maxRetryAfterSeconds \(2 s\)/)
    expect(e.message).toContain(`accepts requests again at ${e.retryAt.toISOString()} (in 3600 s)`)
    expect(calls).toBe(1)
    expect(events).toEqual([])

    // another request of the same connection fails at once, without reaching the server
    const again = await http.request({ path: 'items/2', route: 'GET /items/{n}' }).catch((x: unknown) => x)
    expect(again).toMatchObject({
      code: 'rate_limited',
      message: expect.stringMatching(/not sent: earlier, GET \/items\/\{n\} answered 429 .*accepts requests again at/),
    })
    expect(calls).toBe(1)
  })

  it('waits out a Retry-After within the cap and reports the wait', async () => {
    let calls = 0
    const server = await serve(() =>
      ++calls === 1 ? { status: 429, body: { message: 'slow down' }, headers: { 'retry-after': '1' } } : { status: 200, body: {} },
    )
    const { http, events, logs } = client(server.url, { maxRetryAfterSeconds: 2 })
    await expect(http.request({ path: 'items/1', route: 'GET /items/{n}' })).resolves.toMatchObject({ status: 200 })
    expect(events).toEqual([
      { connection: 'flaky', route: 'GET /items/{n}', reason: 'retry-after', waitMs: 1000, attempt: 1, of: 3, code: 'HTTP 429', status: 429 },
    ])
    const line = logs.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'retrying')
    expect(line).toMatchObject({ level: 30, reason: 'retry-after', waitMs: 1000, code: 'HTTP 429' })
  })

  it("measures an HTTP-date Retry-After on the server's clock, not ours", async () => {
    // the server's clock is 10 minutes behind: its "retry at" is 10 minutes in our past
    const serverNow = () => Date.now() - 600_000
    const arrivals: number[] = []
    const server = await serve(() => {
      arrivals.push(performance.now())
      const date = new Date(serverNow())
      if (arrivals.length > 1) return { status: 200, body: {}, headers: { date: date.toUTCString() } }
      return {
        status: 503,
        body: { message: 'restarting' },
        headers: { date: date.toUTCString(), 'retry-after': new Date(Math.floor(date.getTime() / 1000) * 1000 + 2_000).toUTCString() },
      }
    })
    const { http, events } = client(server.url)
    await expect(http.request({ path: 'items/1', route: 'GET /items/{n}' })).resolves.toMatchObject({ status: 200 })
    expect(events).toEqual([expect.objectContaining({ reason: 'retry-after', waitMs: 2_000 })])
    expect((arrivals[1] as number) - (arrivals[0] as number)).toBeGreaterThanOrEqual(1_900)
  })
})

describe('wait reports', () => {
  it('reports a refused connection with its errno on every retry', async () => {
    const server = await serve(() => ({ status: 200, body: {} }))
    const url = server.url
    await server.close()
    const { http, events, logs } = client(url)
    await expect(http.request({ path: 'items/1', route: 'GET /items/{n}' })).rejects.toMatchObject({ code: 'network_error' })
    expect(events.map((e) => [e.reason, e.attempt, e.of, e.code])).toEqual([
      ['retry', 1, 3, 'ECONNREFUSED'],
      ['retry', 2, 3, 'ECONNREFUSED'],
    ])
    expect(logs.text()).toContain('"msg":"retrying"')
  })
})
