import { onTestFinished } from 'vitest'
import type { EleanStream } from '../../src/connectors/elean/elean.config.js'
import type { ElementumStream } from '../../src/connectors/elementum/elementum.config.js'
import type { ElementumAttachmentOptions } from '../../src/connectors/elementum/elementum.attachments.js'
import { createElementumWriters } from '../../src/connectors/elementum/elementum.write.js'
import type { EleanAttachmentOptions } from '../../src/connectors/elean/elean.attachments.js'
import { createEleanWriters } from '../../src/connectors/elean/elean.write.js'
import { createHttpClient, type HttpClient } from '../../src/http/client.js'
import { startElean, type EleanSimOptions, type StartedElean } from '../../src/sim/elean/index.js'
import { startElementum, type ElementumSimOptions, type StartedElementum } from '../../src/sim/elementum/index.js'
import { captureLogs, type CapturedLogs } from './logs.js'

/** The write ports of each vendor over its simulator, closed after the test. */

const RETRY = { attempts: 3, baseMs: 10, maxMs: 50 }

export async function simControl(url: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${url}/_sim${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  const text = await res.text()
  if (res.status >= 400) throw new Error(`${method} /_sim${path}: ${res.status} ${text}`)
  return text ? JSON.parse(text) : undefined
}

/** Requests the simulator served by route and status since the last call. */
export async function served(url: string): Promise<Record<string, Record<string, number>>> {
  const stats = await simControl(url, 'GET', '/stats')
  await simControl(url, 'POST', '/stats/reset')
  return stats.byRoute
}

function streamsOf<S>(streams: Record<string, S>) {
  return (name: string): S => {
    const s = streams[name]
    if (!s) throw new Error(`no stream ${name}`)
    return s
  }
}

export interface Harness<Sim, Writers> {
  sim: Sim
  http: HttpClient
  logs: CapturedLogs
  writers: Writers
  control(method: string, path: string, body?: unknown): Promise<any>
}

export type ElementumHarness = Harness<StartedElementum, ReturnType<typeof createElementumWriters>>
export type EleanHarness = Harness<StartedElean, ReturnType<typeof createEleanWriters>>

/** Streams `ops` (tasks/ops) and `infra` (tasks/infra). */
export async function elementumWriters(o: { sim?: ElementumSimOptions; attachments?: ElementumAttachmentOptions } = {}): Promise<ElementumHarness> {
  const sim = await startElementum({ port: 0, ...o.sim })
  onTestFinished(() => sim.close())
  const control = (method: string, path: string, body?: unknown) => simControl(sim.server.url, method, path, body)
  for (const alias of ['ops', 'infra']) await control('POST', '/seed', { alias, count: 0 })
  const logs = captureLogs()
  const { clientId, clientSecret, tokenUrl } = sim.credentials as Record<string, string>
  const http = createHttpClient(
    {
      name: 'elementum',
      baseUrl: sim.baseUrl,
      auth: { mode: 'oauth2-client-credentials', clientId: clientId ?? '', clientSecret: clientSecret ?? '' },
      timeoutMs: 10_000,
    },
    { logger: logs.logger, redactor: logs.redactor, defaultTokenUrl: tokenUrl ?? '', retry: RETRY },
  )
  const streams: Record<string, ElementumStream> = {
    ops: { recordType: 'tasks', alias: 'ops', cursorField: 'Updated on' },
    infra: { recordType: 'tasks', alias: 'infra', cursorField: 'Updated on' },
  }
  const writers = createElementumWriters({ http, streamConfig: streamsOf(streams), ...(o.attachments ? { attachments: o.attachments } : {}) })
  return { sim, http, logs, writers, control }
}

/** Stream `web` (project web), written with the simulator's first key. */
export async function eleanWriters(o: { sim?: EleanSimOptions; attachments?: EleanAttachmentOptions } = {}): Promise<EleanHarness> {
  const sim = await startElean({ port: 0, perMinute: 0, ...o.sim })
  onTestFinished(() => sim.close())
  const control = (method: string, path: string, body?: unknown) => simControl(sim.server.url, method, path, body)
  await control('POST', '/projects/web')
  const logs = captureLogs()
  const http = createHttpClient(
    { name: 'elean', baseUrl: sim.baseUrl, auth: { mode: 'bearer', token: sim.credentials.apiKey as string }, timeoutMs: 10_000 },
    { logger: logs.logger, redactor: logs.redactor, retry: RETRY },
  )
  const streams: Record<string, EleanStream> = { web: { project: 'web' } }
  const writers = createEleanWriters({ http, streamConfig: streamsOf(streams), ...(o.attachments ? { attachments: o.attachments } : {}) })
  return { sim, http, logs, writers, control }
}

/** `size` deterministic pseudo-random bytes, yielded in chunks of `chunk` (never held whole). */
export async function* pattern(size: number, chunk = 64 * 1024, seed = 7): AsyncGenerator<Uint8Array> {
  let x = seed
  for (let sent = 0; sent < size; sent += chunk) {
    const n = Math.min(chunk, size - sent)
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) >>> 0
      out[i] = x >>> 24
    }
    yield out
  }
}

/** SHA-256 and length of a stream, read chunk by chunk. */
export async function digest(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<{ sha256: string; size: number }> {
  const { createHash } = await import('node:crypto')
  const h = createHash('sha256')
  let size = 0
  for await (const c of body) {
    h.update(c)
    size += c.length
  }
  return { sha256: h.digest('hex'), size }
}
