import type { SimServer } from '../../src/sim/common/server.js'

/** Calls a simulator's `/_sim` control route; throws on an error status. Bodies are `any`: each test reads what it needs. */
export async function simControl(server: SimServer, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${server.url}/_sim${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  const text = await res.text()
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`)
  return text ? JSON.parse(text) : undefined
}
