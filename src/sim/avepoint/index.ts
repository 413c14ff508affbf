import { randomUUID } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import { createSimClock } from '../common/clock.js'
import { startSimServer, type SimServer } from '../common/server.js'
import type { SimOptions, StartedSim } from '../types.js'
import { createAvepointAuth, DEFAULT_SCOPE } from './avepoint.auth.js'
import { avepointControl } from './avepoint.control.js'
import { avepointRoutes, withRequestId } from './avepoint.routes.js'
import { createAvepointStore, type AvepointStore } from './avepoint.store.js'

/**
 * AvePoint Elements simulator. One server plays both the identity host (`/connect/token`)
 * and the graph host (`/partner/external/v3/...`).
 */

export { AVEPOINT_RESOURCES, type AvepointResource, type AvepointSeed, type AvepointStore } from './avepoint.store.js'
export { KNOWN_SCOPES, PERMISSIONS } from './avepoint.auth.js'

export interface AvepointSimOptions extends SimOptions {
  clientId?: string
  clientSecret?: string
  tokenTtlSeconds?: number
}

export type StartedAvepoint = StartedSim & { store: AvepointStore }

/** `{error: {code, message}}`, the code being the status's reason phrase in PascalCase. */
export function avepointErrorBody(status: number, message: string): unknown {
  const code = (STATUS_CODES[status] ?? 'Error').replace(/[^A-Za-z]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())
  return { error: { code, message } }
}

export async function startAvepoint(opts: AvepointSimOptions = {}): Promise<StartedAvepoint> {
  const clientId = opts.clientId ?? 'elsync-sim-client'
  const clientSecret = opts.clientSecret ?? 'elsync-sim-secret'
  const clock = createSimClock()
  const store = createAvepointStore(clock, opts.seed ?? 1)
  const auth = createAvepointAuth({ clientId, clientSecret, tokenTtlSeconds: opts.tokenTtlSeconds ?? 3600, clock })
  let server: SimServer | undefined
  const faults = () => {
    if (!server) throw new Error('avepoint sim used before it started')
    return server.faults
  }
  server = await startSimServer({
    name: 'avepoint',
    clock,
    ...(opts.port !== undefined && { port: opts.port }),
    ...(opts.host !== undefined && { host: opts.host }),
    errorBody: avepointErrorBody,
    // faults and unmatched routes answer from the common server: they carry a request-id too
    responseHeaders: () => ({ 'request-id': randomUUID() }),
    routes: [{ ...auth.tokenRoute, handler: withRequestId(auth.tokenRoute.handler) }, ...avepointRoutes({ store, auth, faults })],
    control: avepointControl(store),
  })
  const started = server
  return {
    kind: 'avepoint',
    baseUrl: started.url,
    credentials: { clientId, clientSecret, tokenUrl: `${started.url}/connect/token`, scope: DEFAULT_SCOPE },
    server: started,
    store,
    close: () => started.close(),
  }
}
