import { Counter, Histogram, type Registry } from 'prom-client'

/** Request counts and latencies per connection, route and status; rate limits and retries per connection. */
export interface HttpMetrics {
  observe(connection: string, route: string, status: string, ms: number): void
  /** A failed request is about to be tried again, after the server's Retry-After or the client's backoff. */
  retried(connection: string, reason: 'retry-after' | 'retry'): void
}

/** `connections` are listed at zero from the start, so a dashboard or an alert sees them before the first request. */
export function createHttpMetrics(registry: Registry, connections: readonly string[] = []): HttpMetrics {
  const requests = new Counter({
    name: 'elsync_http_requests_total',
    help: 'Requests made to vendor APIs, by connection, route and status (status "error" when no response)',
    labelNames: ['connection', 'route', 'status'],
    registers: [registry],
  })
  const latency = new Histogram({
    name: 'elsync_http_request_duration_seconds',
    help: 'Latency of vendor API requests',
    labelNames: ['connection', 'route'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  })
  const rateLimited = new Counter({
    name: 'elsync_http_rate_limited_total',
    help: 'Vendor API answers 429 (rate limited), by connection',
    labelNames: ['connection'],
    registers: [registry],
  })
  const retries = new Counter({
    name: 'elsync_http_retries_total',
    help: "Vendor API requests tried again, by connection and reason (retry-after: the server's Retry-After; retry: backoff after a failure)",
    labelNames: ['connection', 'reason'],
    registers: [registry],
  })
  for (const connection of connections) {
    rateLimited.inc({ connection }, 0)
    for (const reason of ['retry-after', 'retry']) retries.inc({ connection, reason }, 0)
  }
  return {
    observe(connection, route, status, ms) {
      requests.inc({ connection, route, status })
      latency.observe({ connection, route }, ms / 1000)
      if (status === '429') rateLimited.inc({ connection })
    },
    retried(connection, reason) {
      retries.inc({ connection, reason })
    },
  }
}

export const noopMetrics: HttpMetrics = { observe: () => {}, retried: () => {} }
