import { Counter, Histogram, type Registry } from 'prom-client'

/** Request counts and latencies per connection, route and status. */
export interface HttpMetrics {
  observe(connection: string, route: string, status: string, ms: number): void
}

export function createHttpMetrics(registry: Registry): HttpMetrics {
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
  return {
    observe(connection, route, status, ms) {
      requests.inc({ connection, route, status })
      latency.observe({ connection, route }, ms / 1000)
    },
  }
}

export const noopMetrics: HttpMetrics = { observe: () => {} }
