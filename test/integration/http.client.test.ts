import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSimServer, SimHttpError, bearerToken, basicCredentials, type SimServer, type SimRequest } from '../../src/sim/common/server.js'
import { createHttpClient } from '../../src/http/client.js'
import { BadResponseError, HttpStatusError, NetworkError } from '../../src/http/errors.js'
import { captureLogs } from '../support/logs.js'

const SECRET = 'sUp3r-s3cret-client-value'
let server: SimServer
let tokensIssued = 0
const tokenTtl = 3600
const arrivals: { path: string; at: number }[] = []

beforeAll(async () => {
  server = await startSimServer({
    name: 'http-test',
    errorBody: (status, message) => ({ statusCode: status, message }),
    routes: [
      {
        method: 'POST',
        pattern: '/oauth/token',
        handler: (req: SimRequest) => {
          const c = basicCredentials(req)
          if (c?.user !== 'cid' || c.password !== SECRET) throw new SimHttpError(401, 'bad client')
          tokensIssued += 1
          return { status: 200, body: { access_token: `tok-${tokensIssued}-abcdef`, token_type: 'Bearer', expires_in: tokenTtl } }
        },
      },
      {
        method: 'GET',
        pattern: '/v1/items',
        handler: (req) => {
          arrivals.push({ path: req.path, at: Date.now() })
          const t = bearerToken(req)
          if (!t || t !== `tok-${tokensIssued}-abcdef`) throw new SimHttpError(401, 'token expired or invalid')
          return { status: 200, body: { items: [1, 2, 3] }, headers: { 'request-id': 'req-42' } }
        },
      },
      {
        method: 'POST',
        pattern: '/v1/items',
        handler: () => {
          arrivals.push({ path: '/v1/items POST', at: Date.now() })
          return { status: 201, body: { id: 'new' } }
        },
      },
    ],
  })
})
afterAll(async () => server.close())

const client = (over: { timeoutMs?: number; perMinute?: number } = {}) => {
  const logs = captureLogs()
  const http = createHttpClient(
    {
      name: 'test',
      baseUrl: `${server.url}/v1`,
      auth: { mode: 'oauth2-client-credentials', clientId: 'cid', clientSecret: SECRET },
      timeoutMs: over.timeoutMs ?? 2000,
      ...(over.perMinute ? { rateLimit: { perMinute: over.perMinute } } : {}),
    },
    { logger: logs.logger, redactor: logs.redactor, defaultTokenUrl: `${server.url}/oauth/token`, retry: { attempts: 6, baseMs: 5, maxMs: 20 } },
  )
  return { http, logs }
}
const fault = (body: object) => fetch(`${server.url}/_sim/faults`, { method: 'POST', body: JSON.stringify(body) })

describe('connection layer', () => {
  it('shares one token fetch among concurrent requests', async () => {
    const before = tokensIssued
    const { http } = client()
    const res = await Promise.all(Array.from({ length: 5 }, () => http.request<{ items: number[] }>({ path: 'items', route: 'GET /items' })))
    expect(res.every((r) => r.body.items.length === 3)).toBe(true)
    expect(tokensIssued - before).toBe(1)
    expect(res[0]?.requestId).toBe('req-42')
  })

  it('refreshes the token once and retries when the server answers 401 mid-run', async () => {
    const { http } = client()
    await http.request({ path: 'items', route: 'GET /items' })
    tokensIssued += 1 // the server now only accepts a newer token: the cached one "expired"
    const res = await http.request<{ items: number[] }>({ path: 'items', route: 'GET /items' })
    expect(res.status).toBe(200)
  })

  it('waits for Retry-After before the next request leaves after a 429 storm', async () => {
    const { http } = client()
    await http.request({ path: 'items', route: 'GET /items' })
    await fault({ kind: 'rate-limit', count: 3, retryAfterSeconds: 1, route: '/v1/items' })
    arrivals.length = 0
    const started = Date.now()
    const res = await http.request({ path: 'items', route: 'GET /items' })
    expect(res.status).toBe(200)
    // 3 refusals each asking for 1 s: the successful request cannot arrive before 3 s
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900)
    expect(arrivals).toHaveLength(1)
    expect(arrivals[0]!.at - started).toBeGreaterThanOrEqual(2900)
  })

  it('recovers from five 503s in a row within its attempt bound', async () => {
    const { http } = client()
    await fault({ kind: 'status', status: 503, count: 5, route: '/v1/items' })
    await expect(http.request({ path: 'items', route: 'GET /items' })).resolves.toMatchObject({ status: 200 })
  })

  it('fails with a typed error once the attempts are spent', async () => {
    const { http } = client()
    await fault({ kind: 'status', status: 503, count: 10, route: '/v1/items' })
    const err = await http.request({ path: 'items', route: 'GET /items' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HttpStatusError)
    expect((err as HttpStatusError).status).toBe(503)
    await fetch(`${server.url}/_sim/faults`, { method: 'DELETE' })
  })

  it('times out a hanging request and retries it', async () => {
    const { http } = client({ timeoutMs: 300 })
    await fault({ kind: 'hang', count: 1, hangMs: 5000, route: '/v1/items' })
    await expect(http.request({ path: 'items', route: 'GET /items' })).resolves.toMatchObject({ status: 200 })
  })

  it('reports a hang on every attempt as a timeout error', async () => {
    const { http } = client({ timeoutMs: 200 })
    await fault({ kind: 'hang', count: 6, hangMs: 5000, route: '/v1/items' })
    const err = await http.request({ path: 'items', route: 'GET /items' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NetworkError)
    expect((err as NetworkError).code).toBe('timeout')
  })

  it('retries a truncated body and an HTML page served with status 200', async () => {
    const { http } = client()
    await fault({ kind: 'truncate', count: 1, route: '/v1/items' })
    await fault({ kind: 'html', count: 1, route: '/v1/items' })
    await fault({ kind: 'malformed-json', count: 1, route: '/v1/items' })
    await expect(http.request({ path: 'items', route: 'GET /items' })).resolves.toMatchObject({ status: 200 })
  })

  it('names an HTML page served with status 200 when it persists', async () => {
    const { http } = client()
    await fault({ kind: 'html', count: 6, route: '/v1/items' })
    const err = await http.request({ path: 'items', route: 'GET /items' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BadResponseError)
    expect((err as Error).message).toMatch(/HTML page instead of JSON/)
  })

  it('never retries a POST that may have reached the server', async () => {
    const { http } = client()
    await fault({ kind: 'status', status: 503, count: 1, route: '/v1/items' })
    arrivals.length = 0
    const err = await http.request({ method: 'POST', path: 'items', json: { a: 1 }, route: 'POST /items' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HttpStatusError)
    const stats = (await (await fetch(`${server.url}/_sim/stats`)).json()) as { byRoute: Record<string, unknown> }
    expect(stats.byRoute['POST /v1/items']).toEqual({ '503': 1 })
  })

  it('refuses to follow a link to another origin with the connection credentials', async () => {
    const { http } = client()
    await expect(http.request({ path: 'https://evil.example.com/steal', route: 'GET next' })).rejects.toThrow(/another origin/)
  })

  it('keeps the rate budget: no more than perMinute requests start within a minute', async () => {
    const { http } = client({ perMinute: 3 })
    const started = Date.now()
    const runs = Array.from({ length: 4 }, () => http.request({ path: 'items', route: 'GET /items' }).then(() => Date.now() - started))
    const first3 = await Promise.race([Promise.all(runs.slice(0, 3)), new Promise((r) => setTimeout(r, 3000))])
    expect(Array.isArray(first3)).toBe(true)
    expect(http.stats().budgetLeft).toBe(0)
    const fourth = await Promise.race([runs[3], new Promise<string>((r) => setTimeout(() => r('still waiting'), 500))])
    expect(fourth).toBe('still waiting')
  })

  it('measures clock skew from the Date header', async () => {
    await fetch(`${server.url}/_sim/clock`, { method: 'POST', body: JSON.stringify({ skewMs: 90_000 }) })
    const { http } = client()
    await http.request({ path: 'items', route: 'GET /items' })
    expect(http.stats().skewMs).toBeGreaterThan(85_000)
    await fetch(`${server.url}/_sim/clock`, { method: 'POST', body: JSON.stringify({ skewMs: 0 }) })
  })

  it('never logs or throws the client secret or the access token', async () => {
    const { http, logs } = client()
    await http.request({ path: 'items', route: 'GET /items' })
    await fault({ kind: 'status', status: 503, count: 10, route: '/v1/items' })
    const err = (await http.request({ path: 'items', route: 'GET /items' }).catch((e: unknown) => e)) as Error
    await fetch(`${server.url}/_sim/faults`, { method: 'DELETE' })
    logs.logger.info({ auth: { clientSecret: SECRET }, note: `leak ${SECRET}` }, 'attempted leak')
    await new Promise((r) => setTimeout(r, 50))
    const text = logs.text() + String(err?.message) + String(err?.stack)
    expect(logs.lines.length).toBeGreaterThan(3)
    expect(text).not.toContain(SECRET)
    expect(text).not.toMatch(/tok-\d+-abcdef/)
    expect(text).toContain('[REDACTED]')
  })
})
