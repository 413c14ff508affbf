import type { SimStats } from '../../src/sim/common/server.js'

const WRITE = /^(POST|PUT|PATCH|DELETE) /

/** Write requests a simulator answered (token requests and its `/_sim` control routes left out); only routes matching `route` when given. */
export function writesOf(stats: SimStats, route?: RegExp): number {
  return Object.entries(stats.byRoute)
    .filter(([r]) => WRITE.test(r) && !r.includes('oauth') && !r.includes('/_sim') && (route === undefined || route.test(r)))
    .reduce((n, [, byStatus]) => n + Object.values(byStatus).reduce((a, b) => a + b, 0), 0)
}
