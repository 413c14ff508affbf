import type { App } from './app.js'
import type { Config } from './config/schema.js'
import type { ReadMode } from './engine/types.js'
import type { ScheduleEntry } from './scheduler.js'

/** One poll → reconcile → push pass of a connection's streams (the daemon's `pass`). */
export type ConnectionPass = (
  connection: string,
  signal: AbortSignal,
  mode: ReadMode,
  tick: { schedule: string; at: Date } | undefined,
  takeover?: boolean,
) => Promise<unknown>

/**
 * What the daemon runs and when: per connection with streams, its polls on `poll` and once at
 * start-up (a restart does not sit idle until the first tick), a full scan on `fullScanSchedule`
 * where a stream reads incrementally, the two in one lane; and, every sixth of a lease, the
 * takeover of streams whose replica died mid-run (their leases ran out while still owned).
 */
export function daemonSchedule(config: Config, app: Pick<App, 'targets' | 'leaseMs' | 'orphans'>, pass: ConnectionPass): ScheduleEntry[] {
  const tickOf = (schedule: string, at: Date | undefined) => (at ? { schedule, at } : undefined)
  const perConnection = Object.entries(config.connections)
    .filter(([, c]) => Object.keys(c.streams).length > 0)
    .flatMap(([name, c]): ScheduleEntry[] => [
      {
        name: `poll:${name}`,
        lane: name,
        expression: c.poll,
        atStart: true,
        tick: async (signal, at) => void (await pass(name, signal, 'incremental', tickOf(`poll:${name}`, at))),
      },
      // incremental streams also get a periodic full scan: deletions, and children of
      // records whose timestamp did not move, are only seen that way
      ...(app.targets.some((t) => t.stream.connection === name && !t.connector.readsFully(t.stream.stream))
        ? [
            {
              name: `full-scan:${name}`,
              lane: name,
              expression: c.fullScanSchedule,
              tick: async (signal: AbortSignal, at?: Date) => void (await pass(name, signal, 'full', tickOf(`full-scan:${name}`, at))),
            },
          ]
        : []),
    ])
  const takeover: ScheduleEntry = {
    name: 'takeover',
    everyMs: Math.min(5_000, Math.ceil(app.leaseMs / 6)),
    tick: async (signal: AbortSignal) => {
      // connections side by side, as in a poll pass: one slow connection does not hold the others' takeover
      const orphaned = new Set((await app.orphans()).map((s) => s.connection))
      await Promise.all([...orphaned].map((connection) => pass(connection, signal, 'incremental', undefined, true)))
    },
  }
  return [...perConnection, takeover]
}
