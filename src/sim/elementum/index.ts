import { createPrng, createSimClock, startSimServer, type SimClock, type SimServer } from '../common/index.js'
import type { SimOptions, StartedSim } from '../types.js'
import { activityRoutes } from './activity.routes.js'
import { attachmentRoutes } from './attachments.routes.js'
import { createElementumAuth } from './auth.js'
import type { ElementumContext } from './context.js'
import { controlRoutes } from './control.routes.js'
import { recordRoutes } from './records.routes.js'
import { applyDrift } from './seed.js'
import { createElementumStore, type ElementumStore } from './store.js'

/**
 * In-memory Elementum records API (DESIGN.md §1, §6). The token endpoint is at the server
 * root (`POST /oauth/token`); records live under `/v1`, which is the `baseUrl` to give a
 * connection. Errors are plain JSON `{status, message}`.
 */

export type { ElementumStore } from './store.js'
export { createElementumStore, RECORD_TYPES, STATUSES, PRIORITIES } from './store.js'
export { compileRsql, parseRsql, RsqlSyntaxError } from '../../engine/rsql.js'
export { seedNamespace } from './seed.js'

export const DEFAULT_CLIENT_ID = 'elsync-sim-client'
export const DEFAULT_CLIENT_SECRET = 'elsync-sim-secret'
export const DEFAULT_TOKEN_TTL_SECONDS = 86_400
export const DEFAULT_MAX_ATTACHMENT_BYTES = 250 * 1024 * 1024
export const DEFAULT_PROCESSING_MS = 2_000

export interface ElementumSimOptions extends SimOptions {
  clientId?: string
  clientSecret?: string
  /** Lifetime of issued tokens on the simulated clock (docs: 24 h). */
  tokenTtlSeconds?: number
  /** Largest accepted upload (docs: 250 MB); larger answers 413. */
  maxAttachmentBytes?: number
  /** Simulated time an upload stays PROCESSING. */
  processingMs?: number
  /** A clock to share or to start at a fixed instant. */
  clock?: SimClock
}

export interface StartedElementum extends StartedSim {
  store: ElementumStore
  /** Every access token the simulator has issued. */
  issuedTokens(): readonly string[]
}

export async function startElementum(opts: ElementumSimOptions = {}): Promise<StartedElementum> {
  const clock = opts.clock ?? createSimClock()
  const clientId = opts.clientId ?? DEFAULT_CLIENT_ID
  const clientSecret = opts.clientSecret ?? DEFAULT_CLIENT_SECRET
  const maxAttachmentBytes = opts.maxAttachmentBytes ?? DEFAULT_MAX_ATTACHMENT_BYTES
  const seed = opts.seed ?? 1
  const store = createElementumStore(clock)
  const auth = createElementumAuth({ clock, clientId, clientSecret, tokenTtlSeconds: opts.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS })
  const driftPrng = createPrng(seed ^ 0x5eed)
  let server: SimServer | undefined
  const ctx: ElementumContext = {
    store,
    auth,
    maxAttachmentBytes,
    processingMs: opts.processingMs ?? DEFAULT_PROCESSING_MS,
    drift: (path, ns) => {
      const fault = server?.faults.take(path, ['drift'])
      if (fault) applyDrift(store, ns, fault, driftPrng)
    },
  }
  server = await startSimServer({
    name: 'elementum',
    clock,
    ...(opts.port === undefined ? {} : { port: opts.port }),
    ...(opts.host === undefined ? {} : { host: opts.host }),
    // The body cap sits above the attachment limit so an oversized file gets Elementum's own 413.
    maxBodyBytes: maxAttachmentBytes + 1024 * 1024,
    errorBody: (status, message) => ({ status, message }),
    routes: [auth.tokenRoute, ...recordRoutes(ctx), ...activityRoutes(ctx), ...attachmentRoutes(ctx)],
    control: controlRoutes(store, auth, seed),
  })
  const started = server
  return {
    kind: 'elementum',
    baseUrl: `${started.url}/v1`,
    credentials: { clientId, clientSecret, tokenUrl: `${started.url}/oauth/token` },
    server: started,
    store,
    issuedTokens: () => auth.issued(),
    close: () => started.close(),
  }
}
