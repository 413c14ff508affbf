import { parseJsonBody, SimHttpError, type SimRequest } from './request.js'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createSimClock, type SimClock } from './clock.js'
import { createFaultBox, parseFault, type FaultBox } from './faults.js'

/**
 * A small `node:http` server shared by the four simulators: routing with `:params`,
 * body reading with a size cap, fault injection, a simulated clock, request counts
 * by route and status, and the common control routes under `/_sim/`.
 */

export interface SimResponse {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

export type SimHandler = (req: SimRequest) => SimResponse | Promise<SimResponse>

export interface SimRoute {
  method: string
  pattern: string
  handler: SimHandler
}

export interface SimServerOptions {
  name: string
  port?: number
  host?: string
  clock?: SimClock
  /** Largest request body accepted; larger bodies get 413 before being buffered. */
  maxBodyBytes?: number
  /** Headers on every response, injected faults and unmatched routes included (AvePoint's request-id). */
  responseHeaders?: () => Record<string, string>
  /** The vendor's error body for a status and message. */
  errorBody: (status: number, message: string) => unknown
  routes: SimRoute[]
  /** Vendor control routes, mounted under `/_sim`. */
  control?: SimRoute[]
}

export interface SimStats {
  total: number
  byRoute: Record<string, Record<string, number>>
}

export interface SimServer {
  readonly name: string
  readonly url: string
  readonly port: number
  readonly clock: SimClock
  readonly faults: FaultBox
  stats(): SimStats
  resetStats(): void
  close(): Promise<void>
}

interface CompiledRoute extends SimRoute {
  segments: string[]
}

function compile(route: SimRoute): CompiledRoute {
  return { ...route, segments: route.pattern.split('/').filter(Boolean) }
}

function match(route: CompiledRoute, parts: string[]): Record<string, string> | undefined {
  if (route.segments.length !== parts.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < parts.length; i++) {
    const seg = route.segments[i] as string
    const part = parts[i] as string
    if (seg.startsWith(':')) params[seg.slice(1)] = part
    else if (seg !== part) return undefined
  }
  return params
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length'] ?? NaN)
  if (Number.isFinite(declared) && declared > max) {
    req.resume()
    return 'too-large'
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > max) {
      req.resume()
      return 'too-large'
    }
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

function serialize(res: SimResponse): { payload: Buffer; contentType: string | undefined } {
  if (res.body === undefined) return { payload: Buffer.alloc(0), contentType: undefined }
  if (Buffer.isBuffer(res.body)) return { payload: res.body, contentType: 'application/octet-stream' }
  if (typeof res.body === 'string') return { payload: Buffer.from(res.body), contentType: 'text/plain; charset=utf-8' }
  return { payload: Buffer.from(JSON.stringify(res.body)), contentType: 'application/json; charset=utf-8' }
}

export async function startSimServer(opts: SimServerOptions): Promise<SimServer> {
  const clock = opts.clock ?? createSimClock()
  const faults = createFaultBox()
  const maxBody = opts.maxBodyBytes ?? 16 * 1024 * 1024
  let stats: SimStats = { total: 0, byRoute: {} }
  const pending = new Set<NodeJS.Timeout>()

  const count = (route: string, status: number): void => {
    stats.total += 1
    const row = (stats.byRoute[route] ??= {})
    row[String(status)] = (row[String(status)] ?? 0) + 1
  }

  const commonControl: SimRoute[] = [
    { method: 'GET', pattern: '/stats', handler: () => ({ status: 200, body: stats }) },
    { method: 'POST', pattern: '/stats/reset', handler: () => (resetStats(), { status: 204 }) },
    {
      method: 'POST',
      pattern: '/faults',
      handler: (req) => {
        try {
          faults.arm(parseFault(parseJsonBody(req)))
        } catch (err) {
          throw err instanceof SimHttpError ? err : new SimHttpError(400, (err as Error).message)
        }
        return { status: 201, body: { faults: faults.list() } }
      },
    },
    { method: 'DELETE', pattern: '/faults', handler: () => (faults.clear(), { status: 204 }) },
    {
      method: 'POST',
      pattern: '/clock',
      handler: (req) => {
        const b = parseJsonBody(req) as { advanceMs?: unknown; skewMs?: unknown }
        if (b.advanceMs !== undefined) {
          if (typeof b.advanceMs !== 'number') throw new SimHttpError(400, 'advanceMs must be a number')
          clock.advance(b.advanceMs)
        }
        if (b.skewMs !== undefined) {
          if (typeof b.skewMs !== 'number') throw new SimHttpError(400, 'skewMs must be a number')
          faults.skewMs = b.skewMs
        }
        return { status: 200, body: { now: clock.nowIso(), skewMs: faults.skewMs } }
      },
    },
  ]
  const routes = opts.routes.map(compile)
  const control = [...commonControl, ...(opts.control ?? [])].map((r) => compile({ ...r, pattern: `/_sim${r.pattern}` }))

  function resetStats(): void {
    stats = { total: 0, byRoute: {} }
  }

  const send = (res: ServerResponse, out: SimResponse, truncate = false): void => {
    const { payload, contentType } = serialize(out)
    const headers: Record<string, string> = { date: new Date(clock.now() + faults.skewMs).toUTCString(), ...opts.responseHeaders?.(), ...out.headers }
    if (contentType && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = contentType
    headers['content-length'] = String(payload.length)
    res.writeHead(out.status, headers)
    if (truncate && payload.length > 1) {
      res.write(payload.subarray(0, Math.floor(payload.length / 2)), () => res.destroy())
      return
    }
    res.end(payload)
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sim.local')
    const method = req.method ?? 'GET'
    const parts = url.pathname
      .split('/')
      .filter(Boolean)
      .map((p) => decodeURIComponent(p))
    const isControl = parts[0] === '_sim'
    const table = isControl ? control : routes
    let found: { route: CompiledRoute; params: Record<string, string> } | undefined
    let pathMatched = false
    for (const route of table) {
      const params = match(route, parts)
      if (!params) continue
      pathMatched = true
      if (route.method === method) {
        found = { route, params }
        break
      }
    }
    const label = found ? `${method} ${found.route.pattern}` : `${method} (unmatched)`
    const reply = (out: SimResponse, truncate = false): void => {
      if (!isControl) count(label, out.status)
      send(res, out, truncate)
    }
    const fail = (status: number, message: string, headers: Record<string, string> = {}): void =>
      reply({ status, body: opts.errorBody(status, message), headers })

    if (!isControl) {
      const fault = faults.take(url.pathname, ['hang', 'rate-limit', 'status', 'html', 'malformed-json'])
      if (fault?.kind === 'hang') {
        count(label, 0)
        const t = setTimeout(() => res.destroy(), fault.hangMs ?? 120_000)
        pending.add(t)
        res.on('close', () => (clearTimeout(t), pending.delete(t)))
        req.resume()
        return
      }
      if (fault?.kind === 'rate-limit') return fail(429, 'Too many requests', { 'retry-after': String(fault.retryAfterSeconds ?? 1) })
      if (fault?.kind === 'status') return fail(fault.status ?? 500, 'Injected failure')
      if (fault?.kind === 'html')
        return reply({ status: 200, body: '<!DOCTYPE html><html><body><h1>Maintenance</h1></body></html>', headers: { 'content-type': 'text/html' } })
      if (fault?.kind === 'malformed-json') return reply({ status: 200, body: '{"broken": ', headers: { 'content-type': 'application/json' } })
    }
    if (!found) return fail(pathMatched ? 405 : 404, pathMatched ? 'Method not allowed' : 'Not found')

    const body = await readBody(req, maxBody)
    if (body === 'too-large') return fail(413, `Payload too large (limit ${maxBody} bytes)`)
    const simReq: SimRequest = {
      method,
      path: url.pathname,
      route: found.route.pattern,
      params: found.params,
      query: url.searchParams,
      headers: req.headers,
      body,
      url,
    }
    try {
      const out = await found.route.handler(simReq)
      const truncate = !isControl && faults.take(url.pathname, ['truncate']) !== undefined
      reply(out, truncate)
    } catch (err) {
      if (err instanceof SimHttpError) return fail(err.status, err.message, err.headers)
      fail(500, err instanceof Error ? err.message : 'internal error')
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy())
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const host = opts.host ?? '127.0.0.1'
  return {
    name: opts.name,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    clock,
    faults,
    stats: () => structuredClone(stats),
    resetStats,
    close: async () => {
      for (const t of pending) clearTimeout(t)
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

export * from './request.js'
