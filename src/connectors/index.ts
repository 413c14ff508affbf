import type { ConnectionConfig } from '../config/schema.js'
import type { Connector } from '../engine/ports.js'
import { createHttpClient, type HttpClientDeps } from '../http/client.js'
import { createAvepoint, AVEPOINT_TOKEN_URL } from './avepoint/index.js'
import { createElasticio } from './elasticio/index.js'
import { createElean } from './elean/index.js'
import { createElementum, elementumTokenUrl } from './elementum/index.js'
import { createRest } from './rest/index.js'

/**
 * The registry: one line per vendor. Builds the connection's HTTP client (auth, rate
 * budget, retries) and hands it to the vendor's factory.
 */
export const ELEAN_PER_MINUTE = 60

export type BuildDeps = Omit<HttpClientDeps, 'defaultTokenUrl'> & { now?: () => Date }

export function createConnector(name: string, config: ConnectionConfig, deps: BuildDeps): Connector {
  // Elean documents 60 requests per minute per key: that is its budget unless the config says otherwise
  const rateLimit =
    config.kind === 'elean' && config.rateLimit?.perMinute === undefined ? { ...config.rateLimit, perMinute: ELEAN_PER_MINUTE } : config.rateLimit
  const settings = {
    name,
    baseUrl: config.baseUrl,
    headers: config.headers,
    auth: config.auth,
    timeoutMs: config.timeoutMs,
    rateLimit,
    maxRetryAfterSeconds: config.maxRetryAfterSeconds,
  }
  const base = { name, logger: deps.logger, ...(deps.now ? { now: deps.now } : {}) }
  switch (config.kind) {
    case 'elementum':
      return createElementum({ ...base, config, http: createHttpClient(settings, { ...deps, defaultTokenUrl: elementumTokenUrl(config.baseUrl) }) })
    case 'elean':
      return createElean({ ...base, config, http: createHttpClient(settings, deps) }, { commentsPerScan: config.commentsPerScan })
    case 'avepoint':
      return createAvepoint({ ...base, config, http: createHttpClient(settings, { ...deps, defaultTokenUrl: AVEPOINT_TOKEN_URL }) })
    case 'elasticio':
      return createElasticio({ ...base, config, http: createHttpClient(settings, deps) })
    case 'rest':
      return createRest({ ...base, config, http: createHttpClient(settings, deps) })
  }
}
