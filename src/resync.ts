import type { App } from './app.js'
import type { QueuedRun, ResyncQueue } from './db/resync.store.js'
import type { StreamRunResult } from './engine/poll.js'
import { createWakeup } from './engine/wakeup.js'
import type { Logger } from './logger.js'

/**
 * The daemon's resync worker: runs the resyncs admins queued (`POST /v1/resync`), on whichever
 * replica gets to them first. Each queued run goes through `app.pollPass` for its one stream,
 * so it takes the stream's lease like any poll: while the stream runs (here or on another
 * replica) the resync stays queued and is tried again on the next pass. The run is claimed
 * only once the lease is held, so it runs once. After a run, the mappings of its connection
 * are reconciled and the outbox executor woken, as after a scheduled poll.
 */
export interface ResyncWorker {
  /** Runs until the signal aborts. */
  run(signal: AbortSignal): Promise<void>
  /** A resync was queued here: look now rather than at the next interval. */
  notify(): void
}

export interface ResyncWorkerOptions {
  app: Pick<App, 'targets' | 'pollPass' | 'reconcilePass' | 'executor'>
  queue: ResyncQueue
  logger: Logger
  /** How often the queue is looked at when nothing wakes the worker (default 2 s: resyncs queued on other replicas). */
  intervalMs?: number
  onStreamDone?: (r: StreamRunResult) => void
}

export function createResyncWorker(opts: ResyncWorkerOptions): ResyncWorker {
  const { app, queue } = opts
  const log = opts.logger.child({ component: 'resync' })
  const wakeup = createWakeup()
  const configured = (q: QueuedRun) => app.targets.some((t) => t.stream.connection === q.stream.connection && t.stream.stream === q.stream.stream)

  async function runOne(q: QueuedRun, signal: AbortSignal): Promise<void> {
    if (!configured(q)) {
      await queue.fail(q.id, `stream ${q.stream.connection}/${q.stream.stream} is not configured on the replica that took this resync`)
      return
    }
    const results = await app.pollPass({
      connection: q.stream.connection,
      stream: q.stream.stream,
      mode: q.mode,
      source: 'resync',
      signal,
      ...(q.since ? { since: q.since } : {}),
      queued: () => queue.claim(q.id).then((claimed) => (claimed ? q.id : null)),
      onBusy: (stream, why) => log.debug({ ...stream, runId: q.id, why }, 'resync waits: its stream is running'),
      ...(opts.onStreamDone ? { onStreamDone: opts.onStreamDone } : {}),
    })
    for (const r of results) log.info({ ...r.stream, runId: r.runId, status: r.status, changed: r.changed, error: r.error }, 'resync finished')
    if (results.length === 0 || signal.aborted) return
    const reconciled = await app.reconcilePass({ signal, connection: q.stream.connection })
    for (const m of reconciled) if (m.error) log.warn({ mapping: m.mappingId, error: m.error }, 'reconcile after resync failed')
    if (reconciled.some((m) => m.summary?.requests.length)) app.executor.notify()
  }

  return {
    async run(signal) {
      while (!signal.aborted) {
        wakeup.begin()
        try {
          for (const q of await queue.due(50)) {
            if (signal.aborted) break
            await runOne(q, signal)
          }
        } catch (err) {
          log.warn({ err }, 'resync pass failed')
        }
        await wakeup.wait(opts.intervalMs ?? 2000, signal)
      }
    },
    notify: () => wakeup.notify(),
  }
}
