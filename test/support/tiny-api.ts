import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach } from 'vitest'

/**
 * A tiny local JSON API for connector tests: each request is answered by a handler, so a
 * test can serve any payload, hostile ones included. Servers close after each test.
 */
export interface Reply {
  status?: number
  headers?: Record<string, string>
  /** Sent as JSON. */
  body?: unknown
  /** Sent as it is, in place of `body` (JSON that JSON.stringify cannot produce, e.g. nested 5 000 deep). */
  raw?: string
}

export interface TinyApi {
  baseUrl: string
  /** Path and query of every request, in order. */
  requests: string[]
  close(): Promise<void>
}

const open: TinyApi[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((api) => api.close()))
})

/** A local JSON API under `/api`, answering each request with `handler(url)`. */
export async function serve(handler: (url: URL) => Reply): Promise<TinyApi> {
  const requests: string[] = []
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://local')
    requests.push(`${url.pathname}${url.search}`)
    const reply = handler(url)
    res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers })
    res.end(reply.raw ?? JSON.stringify(reply.body))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const api = {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`,
    requests,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  }
  open.push(api)
  return api
}
