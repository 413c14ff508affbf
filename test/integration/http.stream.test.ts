import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createHttpClient, type HttpClient } from '../../src/http/client.js'
import { streamGet, streamUpload } from '../../src/http/stream.js'
import { captureLogs } from '../support/logs.js'
import { digest, pattern } from '../support/writers.js'

// Streamed requests on a connection: credentials stay on the API's origin, retries stop once
// a body has started, uploads are never repeated, and multipart envelopes are well formed.

interface Seen {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: Buffer
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void

async function server(handler: Handler): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = []
  const s = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    try {
      for await (const c of req) chunks.push(c as Buffer)
    } catch {
      return // the client gave up mid-body
    }
    const body = Buffer.concat(chunks)
    seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body })
    handler(req, res, body)
  })
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  onTestFinished(() => {
    s.closeAllConnections()
    return new Promise<void>((resolve) => s.close(() => resolve()))
  })
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, seen }
}

const API_KEY = 'el_0123456789abcdef0123456789abcdef01234567'

function client(baseUrl: string): HttpClient {
  const logs = captureLogs()
  return createHttpClient(
    { name: 'api', baseUrl, auth: { mode: 'bearer', token: API_KEY }, headers: { 'x-tenant': 'acme-secret-tenant' }, timeoutMs: 5000 },
    { logger: logs.logger, redactor: logs.redactor, retry: { attempts: 3, baseMs: 5, maxMs: 10 } },
  )
}

const signal = () => AbortSignal.timeout(20_000)

async function text(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = []
  for await (const c of body) chunks.push(c)
  return Buffer.concat(chunks).toString()
}

describe('streamed GET', () => {
  it('sends the credentials and custom headers to the API origin only, never to another origin', async () => {
    const files = await server((_req, res) => res.end('file body'))
    const api = await server((_req, res) => res.end('api body'))
    const http = client(`${api.url}/v1`)

    const own = await streamGet(http, { url: 'files/1', route: 'GET /files', signal: signal() })
    expect(await text(own.body)).toBe('api body')
    expect(api.seen[0]?.headers).toMatchObject({ authorization: `Bearer ${API_KEY}`, 'x-tenant': 'acme-secret-tenant' })

    const other = await streamGet(http, { url: `${files.url}/bucket/obj?X-Sig=abc%2B`, route: 'GET presigned', signal: signal() })
    expect(await text(other.body)).toBe('file body')
    expect(files.seen[0]?.headers.authorization).toBeUndefined()
    expect(files.seen[0]?.headers['x-tenant']).toBeUndefined()
    // a presigned URL's query is sent exactly as given
    expect(files.seen[0]?.path).toBe('/bucket/obj?X-Sig=abc%2B')

    await streamGet(http, { url: 'files/2', route: 'GET presigned', credentials: false, signal: signal() }).then((r) => r.body.return())
    expect(api.seen[1]?.headers.authorization).toBeUndefined()
  })

  it("keeps a presigned URL's signature out of its error message, even when the store echoes it", async () => {
    const signature = 'c2lnbmF0dXJlLW9mLXRoZS11cmw'
    const files = await server((_req, res) =>
      res.writeHead(403).end(`<Error><Code>SignatureDoesNotMatch</Code><SignatureProvided>${signature}</SignatureProvided></Error>`),
    )
    const api = await server((_req, res) => res.end())
    const err = await streamGet(client(api.url), {
      url: `${files.url}/bucket/obj?X-Amz-Signature=${signature}`,
      route: 'GET presigned',
      signal: signal(),
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'forbidden', message: /SignatureDoesNotMatch/ })
    expect((err as Error).message).not.toContain(signature)
  })

  it('drops the credentials when a redirect leaves the API origin', async () => {
    const files = await server((_req, res) => res.end('moved body'))
    const api = await server((_req, res) => res.writeHead(302, { location: `${files.url}/obj` }).end())
    const res = await streamGet(client(api.url), { url: 'content', route: 'GET content', signal: signal() })
    expect(await text(res.body)).toBe('moved body')
    expect(api.seen[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`)
    expect(files.seen[0]?.headers.authorization).toBeUndefined()
  })

  it('retries a 503 before the body, and counts every attempt in the stats', async () => {
    let calls = 0
    const api = await server((_req, res) => (++calls === 1 ? res.writeHead(503).end('{"message":"busy"}') : res.end('ok')))
    const http = client(api.url)
    const res = await streamGet(http, { url: 'f', route: 'GET f', signal: signal() })
    expect(await text(res.body)).toBe('ok')
    expect(calls).toBe(2)
    expect(http.stats().requests).toBe(2)
  })

  it('hands back an allowed error status with its body unread, and throws the others with the vendor message', async () => {
    const api = await server((req, res) => res.writeHead(req.url === '/gone' ? 410 : 404).end('{"message":"no such file"}'))
    const http = client(api.url)
    const gone = await streamGet(http, { url: 'gone', route: 'GET f', allowStatus: [410], signal: signal() })
    expect(gone.status).toBe(410)
    await gone.body.return()
    await expect(streamGet(http, { url: 'missing', route: 'GET f', signal: signal() })).rejects.toMatchObject({ code: 'not_found', message: /no such file/ })
  })

  it('fails a body cut short of its Content-Length with a network error, without retrying', async () => {
    const api = await server((_req, res) => {
      res.writeHead(200, { 'content-length': '100000' })
      res.write(Buffer.alloc(30_000))
      setTimeout(() => res.destroy(), 20)
    })
    const res = await streamGet(client(api.url), { url: 'f', route: 'GET f', signal: signal() })
    await expect(text(res.body)).rejects.toMatchObject({ code: 'network_error' })
    expect(api.seen).toHaveLength(1)
  })
})

describe('streamed multipart upload', () => {
  const echo: Handler = async (req, res, body) => {
    const form = await new Request('http://x/', { method: 'POST', headers: { 'content-type': String(req.headers['content-type']) }, body }).formData()
    const file = form.get('file') as File
    const bytes = new Uint8Array(await file.arrayBuffer())
    res.writeHead(201, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ name: file.name, type: file.type, size: file.size, description: form.get('description'), sha256: (await digest([bytes])).sha256 }))
  }

  it('sends a well-formed envelope with a Content-Length when the size is known', async () => {
    const api = await server(echo)
    const size = 300_000
    const res = await streamUpload<Record<string, unknown>>(client(api.url), {
      path: 'files',
      route: 'POST files',
      fields: { description: 'a "quoted" one' },
      fileField: 'file',
      file: { filename: 'r\u00e9sum\u00e9 "v2".pdf', mediaType: 'application/pdf', size, body: pattern(size) },
      signal: signal(),
    })
    // escaped as %22 on the wire, read back as a quote by a WHATWG parser
    expect(res.body).toEqual({
      name: 'résumé "v2".pdf',
      type: 'application/pdf',
      size,
      description: 'a "quoted" one',
      sha256: (await digest(pattern(size))).sha256,
    })
    expect(Number(api.seen[0]?.headers['content-length'])).toBe(api.seen[0]?.body.length)
    expect(api.seen[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`)
  })

  it('sends the file chunked when its size is unknown', async () => {
    const api = await server(echo)
    const res = await streamUpload<Record<string, unknown>>(client(api.url), {
      path: 'files',
      route: 'POST files',
      fileField: 'file',
      file: { filename: 'x.bin', mediaType: null, size: null, body: pattern(50_000) },
      signal: signal(),
    })
    expect(res.body).toMatchObject({ name: 'x.bin', type: 'application/octet-stream', size: 50_000 })
    expect(api.seen[0]?.headers['transfer-encoding']).toBe('chunked')
  })

  it('never repeats an upload, even on a retryable status', async () => {
    const api = await server((_req, res) => res.writeHead(503).end('{"message":"try later"}'))
    const err = await streamUpload(client(api.url), {
      path: 'files',
      route: 'POST files',
      fileField: 'file',
      file: { filename: 'x', mediaType: null, size: 3, body: pattern(3) },
      signal: signal(),
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'server_error', status: 503 })
    expect(api.seen).toHaveLength(1)
  })

  it("throws the file body's own error and refuses a file longer than its declared size", async () => {
    const api = await server(echo)
    const http = client(api.url)
    const failing = async function* (): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(10)
      throw Object.assign(new Error('source broke'), { code: 'source_broke' })
    }
    await expect(
      streamUpload(http, {
        path: 'f',
        route: 'POST f',
        fileField: 'file',
        file: { filename: 'x', mediaType: null, size: null, body: failing() },
        signal: signal(),
      }),
    ).rejects.toMatchObject({ code: 'source_broke' })
    await expect(
      streamUpload(http, {
        path: 'f',
        route: 'POST f',
        fileField: 'file',
        file: { filename: 'x', mediaType: null, size: 10, body: pattern(20) },
        signal: signal(),
      }),
    ).rejects.toMatchObject({ code: 'size_mismatch' })
  })
})
