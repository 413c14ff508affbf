/**
 * The composition root of the daemon: config → logger → db → connectors → engine →
 * scheduler → admin, stopped in reverse order. `elsync run` and `elsync demo` call it.
 */
import { randomBytes } from 'node:crypto'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { buildAdminServer } from './admin/server.js'
import type { EnvSettings } from './config/env.js'
import type { Config } from './config/schema.js'
import { createConnector } from './connectors/index.js'
import { openStreamLocks } from './db/locks.js'
import { migrationReadiness } from './db/migrate.js'
import { createPgMirror } from './db/mirror.store.js'
import { openDatabase, type OpenedDatabase } from './db/open.js'
import type { Connector } from './engine/ports.js'
import { syncPass, type SyncTarget } from './engine/sync.js'
import type { StreamRunResult } from './engine/poll.js'
import { createHttpMetrics } from './http/metrics.js'
import type { TokenVault } from './http/types.js'
import type { Logger, Redactor } from './logger.js'
import { createPgTokenVault } from './db/vault.store.js'
import type { Sql } from './db/client.js'
import { createScheduler } from './scheduler.js'

export interface AppContext {
  env: EnvSettings
  config: Config
  redactor: Redactor
  logger: Logger
}

export interface StreamSelection {
  connection: string
  stream: string
}

/** One connector per selected connection (sharing its rate budget), one target per stream. */
export function buildTargets(ctx: AppContext, selection: readonly StreamSelection[], registry: Registry, vault?: TokenVault): SyncTarget[] {
  const metrics = createHttpMetrics(registry)
  const connectors = new Map<string, Connector>()
  return selection.map((sel) => {
    const config = ctx.config.connections[sel.connection]
    if (!config) throw new Error(`unknown connection ${sel.connection}`)
    let connector = connectors.get(sel.connection)
    if (!connector) {
      connector = createConnector(sel.connection, config, { logger: ctx.logger, redactor: ctx.redactor, metrics, ...(vault ? { vault } : {}) })
      connectors.set(sel.connection, connector)
    }
    const stream = config.streams[sel.stream] as { filter?: string } | undefined
    return {
      stream: sel,
      connector,
      lookbackSeconds: config.lookbackSeconds,
      maxDeleteFraction: config.massDeleteFraction,
      missedScansToDelete: config.deleteAfterMissedScans,
      // an API that filters server-side got the filter with its requests; elsewhere it is applied after reading
      filter: connector.filtersServerSide(sel.stream) ? undefined : stream?.filter,
    }
  })
}

/** The refresh-token vault when a secret key is configured (config validation requires one for oauth2-refresh-token). */
export function vaultFor(ctx: AppContext, sql: Sql): TokenVault | undefined {
  return ctx.env.secretKey ? createPgTokenVault(sql, ctx.env.secretKey) : undefined
}

/** One human-readable line for a finished stream run (CLI summary, demo). */
export function summaryLine(r: StreamRunResult): string {
  const name = `${r.stream.connection}/${r.stream.stream}`
  const counts = `${r.mode}, ${r.pages} pages, ${r.seen} seen, ${r.changed} changed, ${r.deleted} deleted, ${r.requests} requests, ${(r.durationMs / 1000).toFixed(1)} s`
  const nul = r.nulBytesStripped ? `, ${r.nulBytesStripped} NUL bytes stripped` : ''
  return r.status === 'succeeded' ? `ok     ${name} (${counts}${nul})` : `FAILED ${name} (${counts}): ${r.error?.code}: ${r.error?.message}`
}

export function allStreams(config: Config): StreamSelection[] {
  return Object.entries(config.connections).flatMap(([connection, c]) => Object.keys(c.streams).map((stream) => ({ connection, stream })))
}

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
  /** Human-readable line per finished stream run (the demo prints them). */
  onRun?: (line: string) => void
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
  const mirror = createPgMirror(db.sql)
  const locks = openStreamLocks(db.url, Object.keys(ctx.config.connections).length)
  const targets = buildTargets(ctx, allStreams(ctx.config), registry, vaultFor(ctx, db.sql))
  const controller = new AbortController()

  const pass = (connection: string | undefined, signal: AbortSignal, mode: 'incremental' | 'full' = 'incremental') =>
    syncPass(
      mirror,
      targets.filter((t) => connection === undefined || t.stream.connection === connection),
      {
        mode,
        signal,
        redact: ctx.redactor.redact,
        exclusive: (stream, fn) => locks.tryRun(stream, fn),
        onBusy: (stream) => log.debug({ ...stream }, 'stream busy on another replica'),
        onStreamDone: (r) => {
          opts.onRun?.(summaryLine(r))
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
      },
    )

  const scheduler = createScheduler(
    Object.entries(ctx.config.connections)
      .filter(([, c]) => Object.keys(c.streams).length > 0)
      .flatMap(([name, c]) => [
        { name: `poll:${name}`, expression: c.poll, tick: async (signal: AbortSignal) => void (await pass(name, signal)) },
        // incremental streams also get a periodic full scan: deletions, and children of
        // records whose timestamp did not move, are only seen that way
        ...(targets.some((t) => t.stream.connection === name && !t.connector.readsFully(t.stream.stream))
          ? [{ name: `full-scan:${name}`, expression: c.fullScanSchedule, tick: async (signal: AbortSignal) => void (await pass(name, signal, 'full')) }]
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
  log.info({ admin: address, database: db.displayUrl }, 'elsync running')

  let stopped: Promise<void> | undefined
  return {
    db,
    adminUrl: address,
    adminToken,
    pollAll: async () => void (await pass(undefined, controller.signal)),
    stop: () =>
      (stopped ??= (async () => {
        controller.abort(new Error('shutting down'))
        await scheduler.stop()
        await admin.close()
        await locks.close()
        await db.close()
        log.info('elsync stopped')
      })()),
  }
}
