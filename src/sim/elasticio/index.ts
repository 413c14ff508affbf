import { createSimClock } from '../common/clock.js'
import { startSimServer, type SimServer } from '../common/server.js'
import type { SimOptions, StartedSim } from '../types.js'
import { elasticioControl } from './elasticio.control.js'
import { elasticioErrorBody } from './elasticio.jsonapi.js'
import { elasticioRoutes } from './elasticio.routes.js'
import { createElasticioStore, type ElasticioStore, type JsonApiItem } from './elasticio.store.js'

/** elastic.io REST API v2 simulator: HTTP Basic `email:apiKey`, JSON:API documents under `/v2`. */

export { ELASTICIO_RESOURCES, RESOURCE_TYPE, type ElasticioResource, type ElasticioSeed, type ElasticioStore, type JsonApiItem } from './elasticio.store.js'
export { elasticioErrorBody } from './elasticio.jsonapi.js'

export interface ElasticioSimOptions extends SimOptions {
  email?: string
  apiKey?: string
}

export type StartedElasticio = StartedSim & { store: ElasticioStore }

export async function startElasticio(opts: ElasticioSimOptions = {}): Promise<StartedElasticio> {
  const email = opts.email ?? 'sim@elsync.test'
  const apiKey = opts.apiKey ?? 'elsync-sim-api-key'
  const clock = createSimClock()
  const store = createElasticioStore(clock, opts.seed ?? 1)
  const stamp = clock.nowIso()
  const me: JsonApiItem = {
    id: '5f0000000000000000000001',
    type: 'user',
    attributes: { first_name: 'Sim', last_name: 'Operator', email, created_at: stamp, updated_at: stamp },
    relationships: {},
  }
  let server: SimServer | undefined
  const faults = () => {
    if (!server) throw new Error('elasticio sim used before it started')
    return server.faults
  }
  server = await startSimServer({
    name: 'elasticio',
    clock,
    ...(opts.port !== undefined && { port: opts.port }),
    ...(opts.host !== undefined && { host: opts.host }),
    errorBody: elasticioErrorBody,
    routes: elasticioRoutes({ store, email, apiKey, me, faults }),
    control: elasticioControl(store),
  })
  const started = server
  return {
    kind: 'elasticio',
    baseUrl: `${started.url}/v2`,
    credentials: { email, apiKey },
    server: started,
    store,
    close: () => started.close(),
  }
}
