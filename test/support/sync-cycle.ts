import { expect } from 'vitest'
import type { App } from '../../src/app.js'
import type { SimStats } from '../../src/sim/common/server.js'

const WRITE = /^(POST|PUT|PATCH|DELETE) /

/** Writes a simulator served (token requests and its control routes aside), from its stats; only routes matching `route` when given. */
export const vendorWrites = (s: SimStats, route?: RegExp): number =>
  Object.entries(s.byRoute)
    .filter(([r]) => WRITE.test(r) && !r.includes('oauth') && !r.includes('/_sim') && (route === undefined || route.test(r)))
    .reduce((n, [, byStatus]) => n + Object.values(byStatus).reduce((a, b) => a + b, 0), 0)

/** One `elsync sync` in process: poll every stream, reconcile, push; any stream or mapping error fails the test. */
export async function syncCycle(app: App, o: { mode?: 'incremental' | 'full'; timeoutMs?: number } = {}) {
  const signal = AbortSignal.timeout(o.timeoutMs ?? 120_000)
  const polled = await app.pollPass({ mode: o.mode ?? 'incremental', signal })
  for (const r of polled) expect(r.status, `${r.stream.connection}/${r.stream.stream}: ${JSON.stringify(r.error)}`).toBe('succeeded')
  const reconciled = await app.reconcilePass({ signal })
  for (const r of reconciled) expect(r.error, JSON.stringify(r.error)).toBeNull()
  const pushed = await app.executor.drain(signal)
  return { polled, reconciled, pushed }
}
