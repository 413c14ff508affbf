import got, { RequestError, type Got, type Method, type Response } from 'got'
import { SECRET_AUTH_FIELDS } from '../config/schema.auth.js'
import { toSyncError } from '../engine/errors.js'
import type { Logger, Redactor } from '../logger.js'
import { createTokenProvider, type TokenProvider } from './auth.js'
import { createRateBudget, type RateBudget } from './budget.js'
import { BadResponseError, HttpStatusError, NetworkError, RateLimitedError } from './errors.js'
import { noopMetrics, type HttpMetrics } from './metrics.js'
import { backoffMs, DEFAULT_RETRY, parseRetryAfter, type RetryPolicy } from './retry.js'
import type { AuthSettings, HttpConnectionSettings, TokenVault, WaitEvent } from './types.js'

/**
 * The connection layer: one client per connection, built from its config. Every request
 * goes through the connection's rate budget, carries its auth and custom headers, is
 * retried per the one retry policy, measured (metrics, clock skew) and logged at debug
 * with the vendor's request id. Errors are typed and never contain a secret.
 */
export interface HttpRequest {
  method?: Method
  /** Path relative to the base URL (no leading slash needed), or an absolute URL on the same origin. */
  path: string
  searchParams?: Record<string, string | number | undefined> | undefined
  json?: unknown
  body?: string | Buffer | FormData
  headers?: Record<string, string>
  /** Metric label, e.g. `GET /tasks`. */
  route: string
  /** POST is never retried after it may have reached the server, unless declared idempotent. */
  idempotent?: boolean
  priority?: 'read' | 'write'
  signal?: AbortSignal | undefined
  expect?: 'json' | 'text' | 'buffer'
  /** Statuses returned to the caller instead of thrown (e.g. 404 on a lookup). */
  allowStatus?: readonly number[]
}

export interface HttpResponse<T> {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: T
  requestId: string | undefined
}

export interface HttpClient {
  readonly name: string
  readonly baseUrl: string
  request<T = unknown>(req: HttpRequest): Promise<HttpResponse<T>>
  stats(): { requests: number; budgetLeft: number | null; budgetPerMinute: number | null; skewMs: number }
}

/** One connection's pieces: its got instance, credentials, rate budget, retry policy and measures. */
export interface HttpConnection {
  readonly name: string
  readonly base: URL
  readonly auth: AuthSettings
  readonly got: Got
  readonly timeoutMs: number
  readonly policy: RetryPolicy
  readonly budget: RateBudget
  readonly redactor: Redactor
  readonly log: Logger
  now(): number
  sleep(ms: number, signal?: AbortSignal): Promise<void>
  /** The OAuth2 access token to send (fetched or refreshed as needed); undefined for the other modes. */
  token(signal?: AbortSignal): Promise<string | undefined>
  invalidateToken(token: string): void
  /** Counts one request made outside `request` in the stats and metrics, and measures the clock skew. */
  observe(route: string, status: number | 'error', started: number, date: string | undefined): void
}

export interface HttpClientDeps {
  logger: Logger
  redactor: Redactor
  metrics?: HttpMetrics
  vault?: TokenVault
  /** The kind's token endpoint when the config names none (Elementum, AvePoint). */
  defaultTokenUrl?: string
  retry?: Partial<RetryPolicy>
  now?: () => number
  /** Test hook replacing the backoff sleep. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** Called before every wait of the retry loop (the CLI prints the long ones: `waitLine`). */
  onWait?: (e: WaitEvent) => void
}

export const DEFAULT_MAX_RETRY_AFTER_SECONDS = 300

const REQUEST_ID_HEADERS = ['request-id', 'x-request-id', 'x-correlation-id', 'x-amzn-requestid']
export const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])

/** A failed attempt worth repeating; `code` names the failure for a wait line. */
interface Retry {
  retry: true
  error: Error
  code: string
  status?: number
  waitMs?: number
  unauthorized?: boolean
}

/** The server's clock when it answered (its `Date` header, one-second resolution); null when absent or unreadable. */
export function serverTimeOf(headers: Record<string, string | string[] | undefined>): Date | null {
  const at = typeof headers.date === 'string' ? Date.parse(headers.date) : NaN
  return Number.isNaN(at) ? null : new Date(at)
}

const defaultSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const onAbort = () => (clearTimeout(t), reject(signal?.reason))
    const t = setTimeout(() => (signal?.removeEventListener('abort', onAbort), resolve()), ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })

export function requestIdOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  for (const h of REQUEST_ID_HEADERS) {
    const v = headers[h]
    if (typeof v === 'string') return v
  }
  return undefined
}

/** A short, redacted excerpt of an error body: the vendor's message when it has one. */
export function excerpt(body: Buffer): string {
  const text = body.toString('utf8').slice(0, 2000)
  try {
    const j = JSON.parse(text) as Record<string, unknown>
    const m =
      j.message ??
      j.error_description ??
      (j.error as { message?: unknown } | undefined)?.message ??
      j.error ??
      (j.errors as { detail?: unknown }[] | undefined)?.[0]?.detail
    if (typeof m === 'string') return m.slice(0, 300)
  } catch {
    /* not JSON */
  }
  return text.replace(/\s+/g, ' ').slice(0, 200)
}

export function createHttpClient(conn: HttpConnectionSettings, deps: HttpClientDeps): HttpClient {
  const now = deps.now ?? Date.now
  const sleep = deps.sleep ?? defaultSleep
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...deps.retry }
  const metrics = deps.metrics ?? noopMetrics
  const log = deps.logger.child({ component: 'http', connection: conn.name })
  const maxRetryAfterMs = (conn.maxRetryAfterSeconds ?? DEFAULT_MAX_RETRY_AFTER_SECONDS) * 1000
  /** Set when the server asked for a wait beyond the cap: every request fails at once until then. */
  let blocked: { until: number; why: string } | undefined
  const base = new URL(conn.baseUrl.endsWith('/') ? conn.baseUrl : `${conn.baseUrl}/`)
  const budget: RateBudget = createRateBudget({ perMinute: conn.rateLimit?.perMinute, concurrency: conn.rateLimit?.concurrency, now })
  const instance: Got = got.extend({
    timeout: { request: conn.timeoutMs ?? 60_000 },
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    https: { rejectUnauthorized: true },
    headers: { 'user-agent': 'elsync/0.1', ...conn.headers },
  })
  const auth = conn.auth
  // only the secret fields: scrubbing `basic`, a scope or a client id would shred ordinary text
  for (const field of SECRET_AUTH_FIELDS[auth.mode]) deps.redactor.add((auth as Record<string, unknown>)[field] as string | undefined)
  let tokens: TokenProvider | undefined
  if (auth.mode === 'oauth2-client-credentials' || auth.mode === 'oauth2-refresh-token') {
    const tokenUrl = auth.tokenUrl ?? deps.defaultTokenUrl
    if (!tokenUrl) throw new Error(`connection ${conn.name}: auth.tokenUrl is required for ${auth.mode}`)
    tokens = createTokenProvider(auth, {
      got: instance,
      connection: conn.name,
      tokenUrl,
      redactor: deps.redactor,
      vault: deps.vault,
      now,
      // token requests count like any other: metrics, the request count, skew, a debug line
      observe: (status, ms, date) => {
        requests += 1
        metrics.observe(conn.name, 'POST token', status, ms)
        measureSkew(date, now() - ms, ms)
        log.debug({ route: 'POST token', status, ms }, 'request')
      },
    })
  }
  let requests = 0
  let skewMs = 0
  /** The largest |server Date − local clock| seen: the incremental lookback grows by it. */
  const measureSkew = (date: string | undefined, started: number, ms: number) => {
    const at = date ? Date.parse(date) : NaN
    // Date has one-second resolution: differences under a second are noise
    if (!Number.isNaN(at)) skewMs = Math.max(skewMs, Math.abs(at - (started + ms / 2)) > 1000 ? Math.abs(at - (started + ms / 2)) : 0)
  }

  const resolveUrl = (path: string): URL => {
    const url = /^https?:\/\//i.test(path) ? new URL(path) : new URL(path.replace(/^\//, ''), base)
    // never send this connection's credentials to another origin (a nextLink could point anywhere)
    if (url.origin !== base.origin) throw new BadResponseError(`refusing to follow a link to another origin: ${url.origin}`)
    return url
  }

  async function attempt<T>(req: HttpRequest, url: URL, token: string | undefined): Promise<HttpResponse<T> | Retry> {
    const headers: Record<string, string> = { accept: req.expect === 'text' ? 'text/plain, */*' : 'application/json', ...req.headers }
    const searchParams = new URLSearchParams(url.search)
    for (const [k, v] of Object.entries(req.searchParams ?? {})) if (v !== undefined) searchParams.set(k, String(v))
    applyAuth(auth, headers, searchParams, token)
    const target = new URL(url)
    // RFC 3986 encoding (%20, not the form encoding's +): RSQL selectors contain spaces
    target.search = [...searchParams].map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')
    const method = req.method ?? 'GET'
    // routes are labelled `GET /tasks`; name the method only when the label does not
    const what = req.route.startsWith(`${method} `) ? req.route : `${method} ${req.route}`
    const safeToRepeat = method !== 'POST' || req.idempotent === true
    // queued before the block began: do not spend a request the server has refused in advance
    if (blocked && now() < blocked.until) throw blockedError(what, blocked)
    const started = now()
    requests += 1
    let res: Response<Buffer>
    try {
      res = await instance(target, {
        method,
        headers,
        responseType: 'buffer',
        ...(req.json !== undefined ? { json: req.json } : {}),
        ...(req.body !== undefined ? { body: req.body } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
      })
    } catch (err) {
      metrics.observe(conn.name, req.route, 'error', now() - started)
      if (req.signal?.aborted) throw req.signal.reason
      const code = (err as RequestError).code ?? ''
      const phase = err instanceof RequestError && err.name === 'TimeoutError' ? 'timeout' : CONNECT_CODES.has(code) ? 'connect' : 'transfer'
      const error = new NetworkError(`${what} failed (${phase}${code ? `, ${code}` : ''}): ${deps.redactor.redact((err as Error).message)}`, phase)
      log.debug({ route: req.route, method, phase, code, ms: now() - started }, 'request failed')
      if (safeToRepeat || phase === 'connect') return { retry: true, error, code: code || error.code }
      throw error
    }
    const ms = now() - started
    const requestId = requestIdOf(res.headers)
    metrics.observe(conn.name, req.route, String(res.statusCode), ms)
    measureSkew(res.headers.date, started, ms)
    log.debug({ route: req.route, method, status: res.statusCode, ms, requestId }, 'request')
    const status = res.statusCode
    if (status === 401 && tokens && token)
      return { retry: true, unauthorized: true, code: 'HTTP 401', error: new HttpStatusError(401, `${what} answered 401`, requestId, undefined) }
    if (status >= 400 && !req.allowStatus?.includes(status)) {
      // an HTTP-date is on the server's clock: measure it from the server's Date, not ours
      const retryAfter = parseRetryAfter(res.headers['retry-after'], serverTimeOf(res.headers)?.getTime() ?? now())
      const error = new HttpStatusError(
        status,
        `${what} answered ${status}${requestId ? ` (request-id ${requestId})` : ''}: ${deps.redactor.redact(excerpt(res.body))}`,
        requestId,
        retryAfter,
      )
      if (retryAfter !== undefined && error.retryable) {
        // longer than the cap: fail now, saying when, rather than freeze the run for an hour
        if (retryAfter > maxRetryAfterMs) {
          const asked = Math.ceil(retryAfter / 1000)
          blocked = { until: now() + retryAfter, why: `${what} answered ${status}${requestId ? ` (request-id ${requestId})` : ''} with Retry-After ${asked} s` }
          throw blockedError(what, blocked, error)
        }
        // the server asked the whole client to wait (429, or 503 with Retry-After): hold the connection
        budget.pauseFor(retryAfter)
      }
      // a 429 was refused before processing; other statuses may have been processed
      if (error.retryable && (safeToRepeat || status === 429))
        return { retry: true, error, code: `HTTP ${status}`, status, ...(retryAfter !== undefined ? { waitMs: retryAfter } : {}) }
      throw error
    }
    const body = parseBody<T>(req, res.body, String(res.headers['content-type'] ?? ''), what)
    if (body instanceof BadResponseError) {
      if (safeToRepeat) return { retry: true, error: body, code: body.code }
      throw body
    }
    return { status, headers: res.headers, body, requestId }
  }

  /** The message names the absolute time and the seconds left, so an operator knows when to try again. */
  function blockedError(what: string, block: { until: number; why: string }, cause?: Error): RateLimitedError {
    const left = Math.max(0, Math.ceil((block.until - now()) / 1000))
    const at = new Date(block.until).toISOString()
    return new RateLimitedError(
      `${cause ? '' : `${what} not sent: earlier, `}${block.why}, more than maxRetryAfterSeconds (${maxRetryAfterMs / 1000} s) of connection ${conn.name}: ` +
        `the API accepts requests again at ${at} (in ${left} s)`,
      new Date(block.until),
      cause ? { cause } : undefined,
    )
  }

  async function request<T>(req: HttpRequest): Promise<HttpResponse<T>> {
    const url = resolveUrl(req.path)
    let refreshed = false
    for (let failures = 0; ; ) {
      const token = tokens ? await tokens.get(req.signal) : undefined
      const out = await budget.schedule(() => attempt<T>(req, url, token), {
        priority: req.priority ?? (req.method && req.method !== 'GET' ? 'write' : 'read'),
        signal: req.signal,
      })
      if (!('retry' in out)) return out
      if (out.unauthorized) {
        // one refresh-and-retry on 401; a second 401 is an auth failure
        if (refreshed) throw out.error
        refreshed = true
        tokens?.invalidate(token as string)
        continue
      }
      failures += 1
      if (failures >= policy.attempts) throw toSyncError(out.error)
      const backoff = backoffMs(policy, failures)
      const wait = Math.max(backoff, out.waitMs ?? 0)
      const event: WaitEvent = {
        connection: conn.name,
        route: req.route,
        reason: (out.waitMs ?? 0) > backoff ? 'retry-after' : 'retry',
        waitMs: wait,
        attempt: failures,
        of: policy.attempts,
        code: out.code,
        ...(out.status !== undefined ? { status: out.status } : {}),
      }
      log.info({ ...event, err: out.error.message }, 'retrying')
      metrics.retried(conn.name, event.reason)
      deps.onWait?.(event)
      await sleep(wait, req.signal)
    }
  }

  const client: HttpClient = {
    name: conn.name,
    baseUrl: base.toString(),
    request,
    stats: () => ({ requests, budgetLeft: budget.left(), budgetPerMinute: budget.perMinute, skewMs }),
  }
  connections.set(client, {
    name: conn.name,
    base,
    auth,
    got: instance,
    timeoutMs: conn.timeoutMs ?? 60_000,
    policy,
    budget,
    redactor: deps.redactor,
    log,
    now,
    sleep,
    token: (signal) => (tokens ? tokens.get(signal) : Promise.resolve(undefined)),
    invalidateToken: (token) => tokens?.invalidate(token),
    observe: (route, status, started, date) => {
      const ms = now() - started
      requests += 1
      metrics.observe(conn.name, route, String(status), ms)
      if (date !== undefined) measureSkew(date, started, ms)
    },
  })
  return client
}

const connections = new WeakMap<HttpClient, HttpConnection>()

/** The connection behind a client made by `createHttpClient`, for streamed requests (stream.ts). */
export function connectionOf(http: HttpClient): HttpConnection {
  const conn = connections.get(http)
  if (!conn) throw new Error(`http client ${http.name} was not made by createHttpClient: it cannot stream`)
  return conn
}

/** The connection's credentials on one request: its auth header, or its API key in the query. */
export function applyAuth(auth: AuthSettings, headers: Record<string, string>, search: URLSearchParams, token: string | undefined): void {
  if (auth.mode === 'basic') headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
  if (auth.mode === 'bearer') headers.authorization = `Bearer ${auth.token}`
  if (auth.mode === 'api-key' && auth.in === 'header') headers[auth.name.toLowerCase()] = auth.value
  if (token) headers.authorization = `Bearer ${token}`
  if (auth.mode === 'api-key' && auth.in === 'query') search.set(auth.name, auth.value)
}

export function parseBody<T>(req: HttpRequest, raw: Buffer, contentType: string, what: string): T | BadResponseError {
  const expect = req.expect ?? 'json'
  if (expect === 'buffer') return raw as T
  const text = raw.toString('utf8')
  if (expect === 'text') return text as T
  if (raw.length === 0) return undefined as T
  if (/text\/html/i.test(contentType) || /^\s*</.test(text)) return new BadResponseError(`${what} answered an HTML page instead of JSON`)
  try {
    return JSON.parse(text) as T
  } catch {
    return new BadResponseError(`${what} answered malformed or truncated JSON (${raw.length} bytes)`)
  }
}
