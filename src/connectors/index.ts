import type { MarkerFormat } from '../engine/attribution.js'
import type { Connector } from '../engine/ports.js'
import { createHttpClient, type HttpClientDeps } from '../http/client.js'
import { type ConnectionConfig, connectorModule } from './registry.js'

export type BuildDeps = Omit<HttpClientDeps, 'defaultTokenUrl'> & { now?: () => Date; readWatchers?: boolean; markers?: readonly MarkerFormat[] }

/**
 * Builds a connection's connector: its HTTP client (auth, rate budget, retries) with the
 * kind's defaults where the config is silent, handed to the kind's factory.
 */
export function createConnector(name: string, config: ConnectionConfig, deps: BuildDeps): Connector {
  const vendor = connectorModule(config.kind)
  const { perMinute, tokenUrl } = vendor.defaults
  const rateLimit = perMinute !== undefined && config.rateLimit?.perMinute === undefined ? { ...config.rateLimit, perMinute } : config.rateLimit
  const settings = {
    name,
    baseUrl: config.baseUrl,
    headers: config.headers,
    auth: config.auth,
    timeoutMs: config.timeoutMs,
    rateLimit,
    maxRetryAfterSeconds: config.maxRetryAfterSeconds,
  }
  const http = createHttpClient(settings, tokenUrl ? { ...deps, defaultTokenUrl: tokenUrl(config.baseUrl) } : deps)
  return vendor.create({
    name,
    config,
    http,
    logger: deps.logger,
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.readWatchers ? { readWatchers: true } : {}),
    ...(deps.markers ? { markers: deps.markers } : {}),
  })
}
