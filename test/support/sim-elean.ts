import { afterEach } from 'vitest'
import { startElean, type EleanSimOptions, type StartedElean } from '../../src/sim/elean/index.js'

/** The Elean simulator over loopback HTTP, for the `test/integration/sim/elean*` files. */

// Response bodies are `any`: each test checks the fields it cares about.
export type Reply = { status: number; headers: Headers; body: any }
export type CallOptions = { key?: string | null; body?: unknown; headers?: Record<string, string> }

async function send(url: string, method: string, o: CallOptions, key: string | null): Promise<Reply> {
  const headers: Record<string, string> = { ...o.headers }
  if (key !== null) headers.authorization = `Bearer ${key}`
  let body: string | FormData | null = null
  if (o.body instanceof FormData) body = o.body
  else if (o.body !== undefined) {
    body = JSON.stringify(o.body)
    headers['content-type'] = 'application/json'
  }
  const res = await fetch(url, { method, headers, body })
  const text = await res.text()
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined }
}

/**
 * Returns `start(opts)`, which starts a simulator and gives `api` (the vendor API, with the
 * sim's key unless `key` says otherwise: null sends none) and `control` (the `/_sim` routes).
 * Every simulator started is closed after each test. Call once at the top level of a test file.
 */
export function useEleanSim() {
  const running: StartedElean[] = []
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.close()))
  })
  return async function start(opts: EleanSimOptions = {}) {
    const sim = await startElean({ port: 0, ...opts })
    running.push(sim)
    const api = (method: string, path: string, o: CallOptions = {}) =>
      send(`${sim.baseUrl}${path}`, method, o, o.key === undefined ? (sim.credentials.apiKey as string) : o.key)
    const control = (method: string, path: string, body?: unknown) => send(`${sim.server.url}/_sim${path}`, method, body === undefined ? {} : { body }, null)
    return { sim, api, control }
  }
}
