import { createSimClock } from '../common/clock.js'
import { createPrng } from '../common/prng.js'
import { startSimServer, type SimServer, type SimServerOptions } from '../common/server.js'
import type { SimOptions, StartedSim } from '../types.js'
import { attachmentRoutes } from './attachments.routes.js'
import { createKeyring, type KeySpec } from './auth.js'
import { commentRoutes } from './comments.routes.js'
import { API_PREFIX, type EleanDeps } from './context.js'
import { controlRoutes } from './control.routes.js'
import { hashSeed } from './seed.js'
import { createEleanStore, type EleanStore } from './store.js'
import { taskRoutes } from './tasks.routes.js'

/**
 * In-memory simulator of the Elean public task API (beta), see DESIGN.md §1 and §6.
 * `baseUrl` is `<server>/v1/public`; control routes live under `<server>/_sim`.
 */

export type { KeySpec, Scope } from './auth.js'
export type { EleanStore } from './store.js'

export interface EleanSimOptions extends SimOptions {
  /** Keys to issue at start; the first is `credentials.apiKey`. Default: one full-scope key. */
  keys?: KeySpec[]
  /** Requests per key per 60 s of simulated time. Default 60; 0 or Infinity = unlimited. */
  perMinute?: number
  /** Largest attachment accepted (413 above). Default 10 MB. */
  maxAttachmentBytes?: number
}

export interface StartedElean extends StartedSim {
  store: EleanStore
  /** Issues another key and returns it. */
  addKey(spec?: KeySpec): string
}

const MB = 1024 * 1024

export async function startElean(opts: EleanSimOptions = {}): Promise<StartedElean> {
  const seed = opts.seed ?? 1
  const clock = createSimClock()
  const maxAttachmentBytes = opts.maxAttachmentBytes ?? 10 * MB
  const store = createEleanStore({ clock, seed })
  const keys = createKeyring({ clock, prng: createPrng(hashSeed(`keys:${seed}`)), perMinute: opts.perMinute ?? 60 })
  const issued = (opts.keys && opts.keys.length > 0 ? opts.keys : [{}]).map((spec) => keys.add(spec))

  let server: SimServer | undefined
  const deps: EleanDeps = {
    store,
    keys,
    clock,
    maxAttachmentBytes,
    server: () => {
      if (!server) throw new Error('Elean simulator is not listening yet')
      return server
    },
  }
  const serverOptions: SimServerOptions = {
    name: 'elean',
    clock,
    // Headroom above the file limit so a moderately oversized upload reaches the
    // handler and gets Elean's own 413 rather than the transport's.
    maxBodyBytes: maxAttachmentBytes + MB,
    errorBody: (statusCode, message) => ({ statusCode, message }),
    routes: [...taskRoutes(deps), ...commentRoutes(deps), ...attachmentRoutes(deps)],
    control: controlRoutes(deps, seed),
  }
  if (opts.port !== undefined) serverOptions.port = opts.port
  if (opts.host !== undefined) serverOptions.host = opts.host
  server = await startSimServer(serverOptions)
  const started = server

  return {
    kind: 'elean',
    baseUrl: `${started.url}${API_PREFIX}`,
    credentials: { apiKey: issued[0] as string },
    server: started,
    store,
    addKey: (spec) => keys.add(spec),
    close: () => started.close(),
  }
}
