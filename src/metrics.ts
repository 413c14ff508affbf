/**
 * elsync's own metrics (prefix `elsync_`), beside the HTTP ones of src/http/metrics.ts:
 * counters of what this process did (runs, records, pushes), and gauges read from the shared
 * database at each scrape (outbox backlog, open conflicts, per-stream health). Every configured
 * stream and connection is listed from start-up, so an alert sees a stream that never succeeded.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { StateSnapshot } from './db/metrics.store.js'
import type { StreamRunResult } from './engine/poll.js'
import type { StreamRef } from './engine/types.js'

export interface SyncMetrics {
  runFinished(r: StreamRunResult): void
  pushed(connection: string, outcome: 'sent' | 'failed' | 'dead'): void
}

export function createSyncMetrics(registry: Registry, streams: readonly StreamRef[]): SyncMetrics {
  const labels = ['connection', 'stream'] as const
  const runs = new Counter({
    name: 'elsync_stream_runs_total',
    help: 'Stream runs finished by this process, by mode and status (succeeded, failed, interrupted)',
    labelNames: [...labels, 'mode', 'status'],
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'elsync_stream_run_duration_seconds',
    help: 'Duration of stream runs',
    labelNames: [...labels, 'mode'],
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
    registers: [registry],
  })
  const read = new Counter({ name: 'elsync_records_read_total', help: 'Records read from vendor APIs', labelNames: labels, registers: [registry] })
  const changed = new Counter({
    name: 'elsync_records_changed_total',
    help: 'Records whose mirrored content changed (inserted, updated or restored)',
    labelNames: labels,
    registers: [registry],
  })
  const deleted = new Counter({ name: 'elsync_records_deleted_total', help: 'Records marked deleted in the mirror', labelNames: labels, registers: [registry] })
  const pushes = new Counter({
    name: 'elsync_outbox_pushes_total',
    help: 'Outbox rows pushed by this process, by target connection and outcome (sent, failed: to retry, dead: parked)',
    labelNames: ['connection', 'outcome'],
    registers: [registry],
  })
  for (const s of streams) for (const c of [read, changed, deleted]) c.inc({ connection: s.connection, stream: s.stream }, 0)
  return {
    runFinished(r) {
      const stream = { connection: r.stream.connection, stream: r.stream.stream }
      runs.inc({ ...stream, mode: r.mode, status: r.status })
      duration.observe({ ...stream, mode: r.mode }, r.durationMs / 1000)
      read.inc(stream, r.seen)
      changed.inc(stream, r.changed)
      deleted.inc(stream, r.deleted)
    },
    pushed(connection, outcome) {
      pushes.inc({ connection, outcome })
    },
  }
}

export interface StateMetricsOptions {
  /** Reads the snapshot; it should give up after `timeoutMs` itself (a statement timeout), this bound is the last resort. */
  state: () => Promise<StateSnapshot>
  timeoutMs: number
  version: string
  onError?: (err: unknown) => void
}

/**
 * Gauges filled on scrape (prom-client `collect`) from one snapshot shared by all of them. A
 * snapshot that fails or is late never fails the scrape: `elsync_database_up` says 0 and the
 * other gauges keep the values of the last snapshot that arrived.
 */
export function registerStateMetrics(registry: Registry, opts: StateMetricsOptions): void {
  new Gauge({
    name: 'elsync_build_info',
    help: 'Always 1; the labels say which elsync and Node.js run',
    labelNames: ['version', 'node'],
    registers: [registry],
  }).set({ version: opts.version, node: process.version }, 1)

  let current: Promise<StateSnapshot | null> | undefined
  // one read per scrape: the first gauge collected starts it, the others of that scrape share it
  const snapshot = (): Promise<StateSnapshot | null> => {
    current ??= withTimeout(opts.state(), opts.timeoutMs)
      .then(
        (s) => {
          up.set(1)
          return s
        },
        (err: unknown) => {
          up.set(0)
          opts.onError?.(err)
          return null
        },
      )
      .finally(() => {
        // prom-client starts every collect of a scrape at once: they all joined this read
        current = undefined
      })
    return current
  }
  const up = new Gauge({
    name: 'elsync_database_up',
    help: "1 when the scrape's database reads answered in time, else 0",
    registers: [registry],
    async collect() {
      await snapshot()
    },
  })
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge, s: StateSnapshot) => void): Gauge =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const s = await snapshot()
        if (!s) return
        this.reset()
        fill(this, s)
      },
    })
  gauge('elsync_outbox_rows', 'Outbox rows not yet sent, by state (pending, failed: waiting for a retry, dead: parked for an admin)', ['state'], (g, s) => {
    for (const [state, n] of Object.entries(s.outbox)) g.set({ state }, n)
  })
  gauge('elsync_outbox_oldest_pending_age_seconds', 'Age of the oldest outbox row waiting to be pushed (0 when none)', [], (g, s) =>
    g.set(s.oldestPendingSeconds ?? 0),
  )
  gauge('elsync_conflicts_open', 'Open field conflicts, by mapping', ['mapping'], (g, s) => {
    for (const c of s.openConflicts) g.set({ mapping: c.mapping }, c.count)
  })
  gauge('elsync_stream_last_success_timestamp_seconds', 'When the last successful run of the stream finished (0: never)', ['connection', 'stream'], (g, s) => {
    for (const h of s.streams) g.set({ connection: h.connection, stream: h.stream }, h.lastSuccessAt ? h.lastSuccessAt.getTime() / 1000 : 0)
  })
  gauge('elsync_stream_lag_seconds', 'Seconds since the last successful run of the stream finished (absent: none yet)', ['connection', 'stream'], (g, s) => {
    for (const h of s.streams) if (h.lagSeconds !== null) g.set({ connection: h.connection, stream: h.stream }, h.lagSeconds)
  })
  gauge('elsync_stream_consecutive_failures', 'Failed runs of the stream since its last successful one', ['connection', 'stream'], (g, s) => {
    for (const h of s.streams) g.set({ connection: h.connection, stream: h.stream }, h.consecutiveFailures)
  })
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
  })
  return Promise.race([p, late]).finally(() => clearTimeout(timer))
}
