import type { IncomingHttpHeaders } from 'node:http'
import type { Delays, Request as GotStream, Response } from 'got'
import { applyAuth, CONNECT_CODES, connectionOf, excerpt, type HttpClient, type HttpConnection, type HttpResponse, parseBody, requestIdOf } from './client.js'
import { BadResponseError, HttpStatusError, NetworkError } from './errors.js'
import { type MultipartFile, multipartBody } from './multipart.js'
import { backoffMs, parseRetryAfter } from './retry.js'

/**
 * Streamed requests on a connection made by `createHttpClient`: a GET whose body is read as
 * it arrives, and a multipart POST whose file part is pulled from an async iterable, so a
 * file is piped from one API to another without being held in memory or on disk. Both go
 * through the connection's rate budget, credentials and measures. A streamed GET is retried
 * like any GET until its body is handed over; an upload is never retried (its body is gone).
 * Credentials go to the API's own origin only, never to another one (a presigned URL).
 */

export interface StreamGetRequest {
  /** A path relative to the base URL, or an absolute URL. */
  url: string
  /** Metric label, e.g. `GET /files`. */
  route: string
  signal?: AbortSignal | undefined
  /** False for a presigned URL: no credentials even on the API's origin. Other origins never get them. */
  credentials?: boolean
  /** Statuses handed back (with the body unread) instead of thrown, e.g. 403 of an expired presigned URL. */
  allowStatus?: readonly number[]
}

/** A response body being read; `return()` closes the connection at once, read or not. */
export interface StreamedBody extends AsyncIterableIterator<Uint8Array> {
  return(): Promise<IteratorResult<Uint8Array>>
}

export interface StreamedResponse {
  status: number
  headers: IncomingHttpHeaders
  requestId: string | undefined
  /** Content-Length, when the server sent one. */
  size: number | null
  body: StreamedBody
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])
const MAX_REDIRECTS = 5
const ERROR_BODY_BYTES = 64 * 1024

type Opened = { res: Response; stream: GotStream } | { error: Error }

/** The got options every streamed request shares: no overall deadline, only idle and first-byte ones. */
function streamTimeouts(conn: HttpConnection): Delays {
  // got merges timeouts into the instance's: `undefined` is how it drops the overall `request` one
  return { request: undefined as unknown as number, connect: conn.timeoutMs, response: conn.timeoutMs, socket: conn.timeoutMs }
}

/** Starts a request and resolves on its response headers (or its failure); its body is left unread. */
function open(conn: HttpConnection, route: string, start: () => GotStream): Promise<Opened> {
  const started = conn.now()
  const stream = start()
  return new Promise((resolve) => {
    stream.once('response', (res: Response) => {
      conn.observe(route, res.statusCode, started, res.headers.date)
      conn.log.debug({ route, status: res.statusCode, ms: conn.now() - started, requestId: requestIdOf(res.headers) }, 'request')
      resolve({ res, stream })
    })
    stream.once('error', (error: Error) => {
      // the caller may never read the body: an error event must not go unheard
      stream.on('error', () => {})
      conn.observe(route, 'error', started, undefined)
      resolve({ error })
    })
  })
}

/** Up to `max` bytes of a body (an error page), then the connection is closed. */
async function readSome(stream: GotStream, max: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer)
      size += (chunk as Buffer).length
      if (size >= max) break
    }
  } catch {
    /* an error page cut short is still worth its excerpt */
  }
  stream.destroy()
  return Buffer.concat(chunks)
}

type Scrub = (text: string) => string
const keep: Scrub = (text) => text

/**
 * A presigned URL is a credential the redactor does not know: its long path segments and
 * query values are scrubbed from what its errors say (an object store may echo a signature).
 */
function scrubberOf(url: URL): Scrub {
  const secrets = [...url.searchParams.values(), ...url.pathname.split('/')].filter((v) => v.length >= 16)
  return (text) => secrets.reduce((out, v) => out.split(v).join('[REDACTED]'), text)
}

function networkError(conn: HttpConnection, what: string, err: unknown, scrub: Scrub = keep): NetworkError {
  const code = (err as { code?: string }).code ?? ''
  const message = scrub(conn.redactor.redact(err instanceof Error ? err.message : String(err)))
  const phase = (err as { name?: string }).name === 'TimeoutError' ? 'timeout' : CONNECT_CODES.has(code) ? 'connect' : 'transfer'
  // no `cause`: got's error holds the request options, credentials included
  return new NetworkError(`${what} failed (${phase}${code ? `, ${code}` : ''}): ${message}`, phase)
}

async function statusError(conn: HttpConnection, what: string, res: Response, stream: GotStream, scrub: Scrub): Promise<HttpStatusError> {
  const requestId = requestIdOf(res.headers)
  const retryAfter = parseRetryAfter(res.headers['retry-after'], conn.now())
  const body = await readSome(stream, ERROR_BODY_BYTES)
  const detail = scrub(conn.redactor.redact(excerpt(body)))
  return new HttpStatusError(
    res.statusCode,
    `${what} answered ${res.statusCode}${requestId ? ` (request-id ${requestId})` : ''}: ${detail}`,
    requestId,
    retryAfter,
  )
}

/** The body as an iterator that checks it arrived whole and closes the connection when dropped. */
function bodyOf(conn: HttpConnection, what: string, stream: GotStream, size: number | null, scrub: Scrub): StreamedBody {
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  let received = 0
  let closed = false
  const body: StreamedBody = {
    [Symbol.asyncIterator]: () => body,
    async next() {
      if (closed) return { done: true, value: undefined }
      let r: IteratorResult<Buffer>
      try {
        r = await chunks.next()
      } catch (err) {
        closed = true
        throw networkError(conn, `${what} (after ${received} bytes)`, err, scrub)
      }
      if (r.done) {
        closed = true
        if (size !== null && received !== size) throw new NetworkError(`${what} ended after ${received} of ${size} bytes`, 'transfer')
        return { done: true, value: undefined }
      }
      received += r.value.length
      return { done: false, value: r.value }
    },
    async return() {
      closed = true
      stream.destroy()
      return { done: true, value: undefined }
    },
  }
  return body
}

/** A GET whose body is streamed to the caller, who must read it to the end or `return()` it. */
export async function streamGet(http: HttpClient, req: StreamGetRequest): Promise<StreamedResponse> {
  const conn = connectionOf(http)
  let url = /^https?:\/\//i.test(req.url) ? new URL(req.url) : new URL(req.url.replace(/^\//, ''), conn.base)
  let refreshed = false
  let failures = 0
  for (let redirects = 0; ; ) {
    const what = req.route.startsWith('GET ') ? req.route : `GET ${req.route}`
    const withAuth = req.credentials !== false && url.origin === conn.base.origin
    const scrub = withAuth ? keep : scrubberOf(url)
    const token = withAuth ? await conn.token(req.signal) : undefined
    const target = new URL(url)
    const headers: Record<string, string | undefined> = { accept: '*/*', 'accept-encoding': 'identity' }
    if (withAuth) {
      const search = new URLSearchParams(url.search)
      applyAuth(conn.auth, headers as Record<string, string>, search, token)
      if (search.toString() !== url.searchParams.toString()) target.search = search.toString()
    } else {
      // a presigned URL or another host gets none of the connection's headers, which may carry secrets
      for (const name of Object.keys(conn.got.defaults.options.headers)) if (name !== 'user-agent') headers[name] = undefined
    }
    const opened = await conn.budget.schedule(
      () =>
        open(conn, req.route, () =>
          conn.got.stream(target, { method: 'GET', headers, decompress: false, timeout: streamTimeouts(conn), ...(req.signal ? { signal: req.signal } : {}) }),
        ),
      { priority: 'read', signal: req.signal },
    )
    let error: Error
    if ('error' in opened) {
      if (req.signal?.aborted) throw req.signal.reason
      error = networkError(conn, what, opened.error, scrub)
    } else {
      const { res, stream } = opened
      const status = res.statusCode
      const location = res.headers.location
      if (REDIRECTS.has(status) && location) {
        stream.destroy()
        if (++redirects > MAX_REDIRECTS) throw new BadResponseError(`${what}: more than ${MAX_REDIRECTS} redirects`)
        url = new URL(location, url)
        continue
      }
      if (status === 401 && token && !refreshed) {
        // one refresh-and-retry on 401, as for buffered requests
        stream.destroy()
        refreshed = true
        conn.invalidateToken(token)
        continue
      }
      if (status < 400 || req.allowStatus?.includes(status)) {
        const length = Number(res.headers['content-length'])
        const size = Number.isFinite(length) && res.headers['content-length'] !== undefined ? length : null
        return { status, headers: res.headers, requestId: requestIdOf(res.headers), size, body: bodyOf(conn, what, stream, size, scrub) }
      }
      const failure = await statusError(conn, what, res, stream, scrub)
      if (failure.retryAfterMs !== undefined && failure.retryable) conn.budget.pauseFor(failure.retryAfterMs)
      if (!failure.retryable) throw failure
      error = failure
    }
    failures += 1
    if (failures >= conn.policy.attempts) throw error
    const wait = Math.max(backoffMs(conn.policy, failures), error instanceof HttpStatusError ? (error.retryAfterMs ?? 0) : 0)
    conn.log.debug({ route: req.route, failures, waitMs: wait, err: error.message }, 'retrying')
    await conn.sleep(wait, req.signal)
  }
}

export interface StreamUploadRequest {
  /** Path relative to the base URL (uploads go to the API only). */
  path: string
  route: string
  signal?: AbortSignal | undefined
  /** Text parts sent before the file, e.g. a description. */
  fields?: Readonly<Record<string, string>>
  /** The name of the file part (`file`). */
  fileField: string
  file: MultipartFile
  expect?: 'json' | 'text'
}

/**
 * A multipart POST streaming `file` as it is read. Never retried: the file's body cannot be
 * read twice. An error of the file's body (e.g. a size limit) is thrown as it is; the file's
 * iterator is closed in every case, so a download feeding it never stays open.
 */
export async function streamUpload<T = unknown>(http: HttpClient, req: StreamUploadRequest): Promise<HttpResponse<T>> {
  const conn = connectionOf(http)
  const url = new URL(req.path.replace(/^\//, ''), conn.base)
  const what = req.route.startsWith('POST ') ? req.route : `POST ${req.route}`
  const iterator = req.file.body[Symbol.asyncIterator]()
  let sourceError: unknown
  async function* tracked(body: AsyncGenerator<Uint8Array>): AsyncGenerator<Uint8Array> {
    try {
      yield* body
    } catch (err) {
      sourceError = err
      throw err
    }
  }
  try {
    const token = await conn.token(req.signal)
    const multipart = multipartBody(req.fields ?? {}, req.fileField, req.file, iterator)
    const headers: Record<string, string> = { accept: req.expect === 'text' ? 'text/plain, */*' : 'application/json', 'content-type': multipart.contentType }
    if (multipart.length !== null) headers['content-length'] = String(multipart.length)
    const search = new URLSearchParams(url.search)
    applyAuth(conn.auth, headers, search, token)
    url.search = search.toString()
    const result = await conn.budget.schedule(() => send(conn, req, url, headers, tracked(multipart.body)), { priority: 'write', signal: req.signal })
    if ('error' in result) {
      if (sourceError !== undefined) throw sourceError
      if (req.signal?.aborted) throw req.signal.reason
      throw networkError(conn, what, result.error)
    }
    const { res, body } = result
    if (res.statusCode === 401 && token) conn.invalidateToken(token)
    if (res.statusCode >= 400) {
      const requestId = requestIdOf(res.headers)
      const retryAfter = parseRetryAfter(res.headers['retry-after'], conn.now())
      if (retryAfter !== undefined && (res.statusCode === 429 || res.statusCode === 503)) conn.budget.pauseFor(retryAfter)
      const detail = conn.redactor.redact(excerpt(body))
      throw new HttpStatusError(
        res.statusCode,
        `${what} answered ${res.statusCode}${requestId ? ` (request-id ${requestId})` : ''}: ${detail}`,
        requestId,
        retryAfter,
      )
    }
    const parsed = result.cut
      ? new BadResponseError(`${what}: the answer was cut short`)
      : parseBody<T>({ path: req.path, route: req.route, expect: req.expect ?? 'json' }, body, String(res.headers['content-type'] ?? ''), what)
    // accepted, but the answer is unreadable (cut short, not JSON): the upload happened, so it
    // must not look retryable; the caller reads the result back instead
    if (parsed instanceof BadResponseError) conn.log.debug({ route: req.route, err: parsed.message }, 'upload answer unreadable')
    const answer = parsed instanceof BadResponseError ? undefined : parsed
    return { status: res.statusCode, headers: res.headers, body: answer as T, requestId: requestIdOf(res.headers) }
  } finally {
    // not awaited: a generator busy in next() would only return after it
    iterator.return?.()?.catch(() => {})
  }
}

/** Sends the upload and reads the (small) answer whole; a failure after an error status still yields that status. */
function send(
  conn: HttpConnection,
  req: StreamUploadRequest,
  url: URL,
  headers: Record<string, string>,
  body: AsyncGenerator<Uint8Array>,
): Promise<{ res: Response; body: Buffer; cut?: boolean } | { error: Error }> {
  const started = conn.now()
  const stream = conn.got.stream(url, {
    method: 'POST',
    headers,
    body,
    timeout: streamTimeouts(conn),
    ...(req.signal ? { signal: req.signal } : {}),
  })
  return new Promise((resolve) => {
    let res: Response | undefined
    const chunks: Buffer[] = []
    let settled = false
    const finish = (out: { res: Response; body: Buffer; cut?: boolean } | { error: Error }) => {
      if (settled) return
      settled = true
      stream.destroy()
      resolve(out)
    }
    stream.on('response', (r: Response) => {
      res = r
      conn.observe(req.route, r.statusCode, started, r.headers.date)
      conn.log.debug({ route: req.route, status: r.statusCode, ms: conn.now() - started, requestId: requestIdOf(r.headers) }, 'request')
    })
    let kept = 0
    // an upload's answer is a small document; anything past 1 MB is not worth keeping
    stream.on('data', (chunk: Buffer) => {
      if (kept >= ERROR_BODY_BYTES * 16) return
      chunks.push(chunk)
      kept += chunk.length
    })
    stream.on('end', () => res && finish({ res, body: Buffer.concat(chunks) }))
    stream.on('error', (error: Error) => {
      // a server may refuse early (413) and close before reading the rest: its answer stands;
      // an answer of success cut short still says the upload happened (its body is unreadable)
      if (res && res.statusCode >= 400) return finish({ res, body: Buffer.concat(chunks) })
      if (res) return finish({ res, body: Buffer.concat(chunks), cut: true })
      if (!res) conn.observe(req.route, 'error', started, undefined)
      finish({ error })
    })
  })
}
