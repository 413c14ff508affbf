/**
 * The composition root of the daemon: config → logger → db → connectors → engine →
 * scheduler → admin, stopped in reverse order. `elsync run` and `elsync demo` call it.
 */
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { buildAdminServer } from './admin/server.js'
import { type AppContext, createApp, reconcileLines, summaryLine } from './app.js'
import { DEFAULT_STARTUP_SETTLE_MS } from './config/env.js'
import { createPgStateSource } from './db/metrics.store.js'
import { createReplicas } from './db/replicas.store.js'
import { migrationReadiness } from './db/migrate.js'
import { openDatabase, type OpenedDatabase } from './db/open.js'
import { InterruptedError } from './engine/errors.js'
import { registerStateMetrics } from './metrics.js'
import { daemonSchedule } from './schedule.js'
import { createScheduler } from './scheduler.js'
import { createAdminApi } from './admin.ports.js'
import { createPgResyncQueue } from './db/resync.store.js'
import { createResyncWorker } from './resync.js'
import { packageVersion } from './version.js'

const METRICS_TIMEOUT_MS = 2_000

export interface Daemon {
  db: OpenedDatabase
  adminUrl: string
  adminToken: string
  /** Resolves when the start-up pass has polled every stream once (and reconciled after it). */
  pollAll(): Promise<void>
  stop(): Promise<void>
}

export interface DaemonOptions {
  say: (line: string) => void
  /** Use a freshly recreated database of this name (the demo). */
  freshDatabase?: string
  /** Human-readable lines: each finished stream run, and what each reconcile queued (the demo prints them). */
  onRun?: (line: string) => void
  /** Only stream runs that changed something, or did not succeed, reach `onRun` (the demo polls every few seconds). */
  quietRuns?: boolean
}

export async function startDaemon(ctx: AppContext, opts: DaemonOptions): Promise<Daemon> {
  const log = ctx.logger.child({ component: 'daemon' })
  const db = await openDatabase({
    databaseUrl: ctx.env.databaseUrl,
    dataDir: ctx.env.dataDir,
    onProgress: opts.say,
    ...(opts.freshDatabase ? { freshDatabase: opts.freshDatabase } : {}),
  })
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const app = createApp(ctx, { db, registry, onLeaseError: (err, what) => log.warn({ err }, `stream lease ${what} failed`) })
  // read from the database at each scrape, bounded so that a slow database never fails the scrape
  registerStateMetrics(registry, {
    state: createPgStateSource(
      db.sql,
      app.targets.map((t) => t.stream),
      METRICS_TIMEOUT_MS,
    ),
    timeoutMs: METRICS_TIMEOUT_MS + 500,
    version: packageVersion(),
    onError: (err) => log.warn({ err }, 'metrics: database state not read'),
  })
  const controller = new AbortController()
  // a replica among others on this database runs at most its fair share of the streams at once
  const replicas = createReplicas(db.sql, { owner: app.owner, ttlMs: app.leaseMs, onError: (err, what) => log.warn({ err }, `replica ${what} failed`) })
  await replicas.join()
  const fairShare = async () => Math.ceil(app.targets.length / (await replicas.live()))

  // poll, then reconcile the mappings on that connection and wake the executor
  const pass = async (
    connection: string | undefined,
    signal: AbortSignal,
    mode: 'incremental' | 'full' = 'incremental',
    tick?: { schedule: string; at: Date },
    takeover?: boolean,
  ) => {
    await poll(connection, signal, mode, tick, takeover)
    const reconciled = await app.reconcilePass({ signal, ...(connection !== undefined ? { connection } : {}) })
    for (const r of reconciled) {
      // the demo tells its story in lines: what each mapping queued
      if (r.error || r.summary?.requests.length || r.summary?.conflicts.length) opts.onRun?.(reconcileLines(r, false).trimEnd())
      if (r.error) log.warn({ mapping: r.mappingId, error: r.error }, 'reconcile failed')
      else if (r.summary && (r.summary.requests.length || r.summary.conflicts.length || r.summary.errors.length))
        log.info(
          {
            mapping: r.mappingId,
            changes: r.summary.changes,
            writes: r.summary.requests.length,
            conflicts: r.summary.conflicts.length,
            errors: r.summary.errors.length,
          },
          'reconciled',
        )
    }
    if (reconciled.some((r) => r.summary?.requests.length)) app.executor.notify()
  }
  const poll = (connection: string | undefined, signal: AbortSignal, mode: 'incremental' | 'full', tick?: { schedule: string; at: Date }, takeover?: boolean) =>
    app.pollPass({
      ...(connection !== undefined ? { connection } : {}),
      ...(tick ? { tick } : {}),
      // a dead replica's stream is taken over whatever the share: its run is to be redone now
      ...(takeover ? { takeover } : { fairShare }),
      mode,
      signal,
      onBusy: (stream, why) => log.debug({ ...stream, why }, 'stream skipped: another replica runs it or ran this tick'),
      onStreamDone: (r) => {
        if (!opts.quietRuns || r.changed || r.deleted || r.status !== 'succeeded') opts.onRun?.(summaryLine(r))
        ;(r.status === 'succeeded' ? log.info.bind(log) : log.warn.bind(log))(
          {
            connection: r.stream.connection,
            stream: r.stream.stream,
            runId: r.runId,
            pages: r.pages,
            seen: r.seen,
            changed: r.changed,
            deleted: r.deleted,
            requests: r.requests,
            ms: r.durationMs,
            error: r.error,
          },
          'stream run finished',
        )
      },
    })

  const scheduler = createScheduler(daemonSchedule(ctx.config, app, pass), ctx.logger)

  const adminToken = ctx.env.adminToken ?? randomBytes(24).toString('base64url')
  // without a configured token the admin API is reachable from this machine only
  const host = ctx.env.adminToken ? (ctx.env.adminHost ?? '0.0.0.0') : '127.0.0.1'
  // resyncs queued through the admin API (here or on another replica) are run by this worker
  const resyncQueue = createPgResyncQueue(db.sql)
  const resyncer = createResyncWorker({ app, queue: resyncQueue, logger: ctx.logger, onStreamDone: (r) => opts.onRun?.(summaryLine(r)) })
  const api = createAdminApi({ sql: db.sql, config: ctx.config, app, resyncQueue, onResyncQueued: () => resyncer.notify(), signal: controller.signal })
  const admin = buildAdminServer({ adminToken, registry, logger: ctx.logger, ready: migrationReadiness(db.sql), api, redact: ctx.redactor.redact })
  const address = await admin.listen({ port: ctx.env.adminPort, host })
  // every connection is polled once now, then on its schedule; daemons started together first
  // see each other (ELSYNC_STARTUP_SETTLE_MS), so that the first pass already shares the streams
  const firstPass = (async () => {
    const settleMs = ctx.env.startupSettleMs ?? DEFAULT_STARTUP_SETTLE_MS
    if (settleMs > 0) await sleep(settleMs, undefined, { signal: controller.signal }).catch(() => {})
    if (!controller.signal.aborted) await scheduler.start()
  })()
  // the outbox is drained continuously (woken early when reconcile queues writes)
  const pushing = app.executor.run(controller.signal).catch((err: unknown) => log.error({ err }, 'outbox executor stopped'))
  const resyncing = resyncer.run(controller.signal).catch((err: unknown) => log.error({ err }, 'resync worker stopped'))
  log.info({ admin: address, database: db.displayUrl }, 'elsync running')

  let stopped: Promise<void> | undefined
  return {
    db,
    adminUrl: address,
    adminToken,
    pollAll: () => firstPass,
    stop: () =>
      (stopped ??= (async () => {
        controller.abort(new InterruptedError('elsync is shutting down'))
        // runs, pushes and resyncs see the abort at their next request: they end as interrupted and
        // release their leases; the scheduler waits for them at most 10 s, the executor as long
        await Promise.race([Promise.all([scheduler.stop(), pushing, resyncing]), new Promise((r) => setTimeout(r, 10_000).unref())])
        await admin.close()
        await replicas.leave()
        await app.close()
        await db.close()
        log.info('elsync stopped')
      })()),
  }
}
