/**
 * The composition root of the daemon: config → logger → db → connectors → engine →
 * scheduler → admin, stopped in reverse order. `elsync run` and `elsync demo` call it.
 */
import { randomBytes } from 'node:crypto'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { buildAdminServer } from './admin/server.js'
import { type AppContext, createApp, reconcileLines, summaryLine } from './app.js'
import { migrationReadiness } from './db/migrate.js'
import { openDatabase, type OpenedDatabase } from './db/open.js'
import { InterruptedError } from './engine/errors.js'
import { createScheduler } from './scheduler.js'

export interface Daemon {
  db: OpenedDatabase
  adminUrl: string
  adminToken: string
  /** Polls every stream once now (the demo's first pass). */
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
  const controller = new AbortController()

  // poll, then reconcile the mappings on that connection and wake the executor
  const pass = async (
    connection: string | undefined,
    signal: AbortSignal,
    mode: 'incremental' | 'full' = 'incremental',
    tick?: { schedule: string; at: Date },
  ) => {
    await poll(connection, signal, mode, tick)
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
  const poll = (connection: string | undefined, signal: AbortSignal, mode: 'incremental' | 'full', tick?: { schedule: string; at: Date }) =>
    app.pollPass({
      ...(connection !== undefined ? { connection } : {}),
      ...(tick ? { tick } : {}),
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

  const scheduler = createScheduler(
    Object.entries(ctx.config.connections)
      .filter(([, c]) => Object.keys(c.streams).length > 0)
      .flatMap(([name, c]) => [
        {
          name: `poll:${name}`,
          expression: c.poll,
          tick: async (signal: AbortSignal, at: Date) => void (await pass(name, signal, 'incremental', { schedule: `poll:${name}`, at })),
        },
        // incremental streams also get a periodic full scan: deletions, and children of
        // records whose timestamp did not move, are only seen that way
        ...(app.targets.some((t) => t.stream.connection === name && !t.connector.readsFully(t.stream.stream))
          ? [
              {
                name: `full-scan:${name}`,
                expression: c.fullScanSchedule,
                tick: async (signal: AbortSignal, at: Date) => void (await pass(name, signal, 'full', { schedule: `full-scan:${name}`, at })),
              },
            ]
          : []),
      ]),
    ctx.logger,
  )

  const adminToken = ctx.env.adminToken ?? randomBytes(24).toString('base64url')
  // without a configured token the admin API is reachable from this machine only
  const host = ctx.env.adminToken ? (ctx.env.adminHost ?? '0.0.0.0') : '127.0.0.1'
  const admin = buildAdminServer({ adminToken, registry, logger: ctx.logger, ready: migrationReadiness(db.sql) })
  const address = await admin.listen({ port: ctx.env.adminPort, host })
  scheduler.start()
  // the outbox is drained continuously (woken early when reconcile queues writes)
  const pushing = app.executor.run(controller.signal).catch((err: unknown) => log.error({ err }, 'outbox executor stopped'))
  log.info({ admin: address, database: db.displayUrl }, 'elsync running')

  let stopped: Promise<void> | undefined
  return {
    db,
    adminUrl: address,
    adminToken,
    pollAll: async () => void (await pass(undefined, controller.signal)),
    stop: () =>
      (stopped ??= (async () => {
        controller.abort(new InterruptedError('elsync is shutting down'))
        await scheduler.stop()
        await pushing
        await admin.close()
        await app.close()
        await db.close()
        log.info('elsync stopped')
      })()),
  }
}
