/**
 * The one assembly of a poll pass, shared by the daemon (`elsync run`, `elsync demo`) and
 * `elsync sync`: one connector per connection (its streams share one rate budget), one
 * target per stream, the Postgres mirror and the stream leases (one replica runs a stream). Reconcile and push are
 * to be wired here too, so that every command runs the same cycle.
 */
import { Registry } from 'prom-client'
import type { EnvSettings } from './config/env.js'
import type { Config } from './config/schema.js'
import { createConnector } from './connectors/index.js'
import type { Sql } from './db/client.js'
import { createStreamLeases } from './db/leases.store.js'
import { createPgMirror } from './db/mirror.store.js'
import { createPgTokenVault } from './db/vault.store.js'
import { UnknownStreamError } from './engine/errors.js'
import type { StreamRunResult } from './engine/poll.js'
import type { Connector } from './engine/ports.js'
import { type SyncPassOptions, type SyncTarget, syncPass } from './engine/sync.js'
import type { StreamRef } from './engine/types.js'
import { createHttpMetrics } from './http/metrics.js'
import type { TokenVault, WaitEvent } from './http/types.js'
import type { Logger, Redactor } from './logger.js'
import { plural } from './text.js'

/** What every command starts from: the environment and config, read and validated once. */
export interface AppContext {
  env: EnvSettings
  config: Config
  redactor: Redactor
  logger: Logger
}

export function allStreams(config: Config): StreamRef[] {
  return Object.entries(config.connections).flatMap(([connection, c]) => Object.keys(c.streams).map((stream) => ({ connection, stream })))
}

/** The refresh-token vault when a secret key is configured (config validation requires one for oauth2-refresh-token). */
function vaultFor(ctx: AppContext, sql: Sql): TokenVault | undefined {
  return ctx.env.secretKey ? createPgTokenVault(sql, ctx.env.secretKey) : undefined
}

/** One connector per selected connection (sharing its rate budget), one target per stream. */
function buildTargets(ctx: AppContext, streams: readonly StreamRef[], deps: AppDeps, vault: TokenVault | undefined): SyncTarget[] {
  const metrics = createHttpMetrics(deps.registry ?? new Registry())
  const onWait = deps.onWait
  const connectors = new Map<string, Connector>()
  return streams.map((sel) => {
    const config = ctx.config.connections[sel.connection]
    const stream = config?.streams[sel.stream]
    if (!config || !stream) throw new UnknownStreamError(sel)
    let connector = connectors.get(sel.connection)
    if (!connector) {
      connector = createConnector(sel.connection, config, {
        logger: ctx.logger,
        redactor: ctx.redactor,
        metrics,
        ...(vault ? { vault } : {}),
        ...(onWait ? { onWait } : {}),
      })
      connectors.set(sel.connection, connector)
    }
    return {
      stream: sel,
      connector,
      lookbackSeconds: config.lookbackSeconds,
      maxDeleteFraction: config.massDeleteFraction,
      missedScansToDelete: config.deleteAfterMissedScans,
      // an API that filters server-side got the filter with its requests; elsewhere it is applied after reading
      filter: connector.filtersServerSide(sel.stream) ? undefined : stream.filter,
    }
  })
}

export interface AppDeps {
  /** The opened database: the mirror, the leases and the token vault use its pool. */
  db: { sql: Sql; url: string }
  /** Streams to poll (default: every configured stream). */
  streams?: readonly StreamRef[]
  /** Where HTTP metrics are registered (default: a registry of its own). */
  registry?: Registry
  /** Heartbeat and release failures of stream leases (the database may be away): logged, never thrown. */
  onLeaseError?: (err: unknown, what: 'heartbeat' | 'release') => void
  /** Every wait of an HTTP retry loop (Retry-After, backoff), so that a command can say why it is quiet. */
  onWait?: (e: WaitEvent) => void
}

export interface PollPassOptions extends Omit<SyncPassOptions, 'exclusive' | 'redact'> {
  /** Only the streams of this connection. */
  connection?: string
  /** The schedule tick this pass runs for: a tick that ran on another replica is not run again. */
  tick?: { schedule: string; at: Date }
}

export interface App {
  readonly targets: readonly SyncTarget[]
  /**
   * Polls the streams once. A stream another process is running (it holds the stream's
   * lease), or whose tick already ran elsewhere, is skipped and reported to `onBusy`.
   */
  pollPass(opts: PollPassOptions): Promise<StreamRunResult[]>
  /** Nothing of its own to close today; the database stays open (its owner closes it). */
  close(): Promise<void>
}

export function createApp(ctx: AppContext, deps: AppDeps): App {
  const streams = deps.streams ?? allStreams(ctx.config)
  const targets = buildTargets(ctx, streams, deps, vaultFor(ctx, deps.db.sql))
  const mirror = createPgMirror(deps.db.sql)
  const leases = createStreamLeases(deps.db.sql, deps.onLeaseError ? { onError: deps.onLeaseError } : {})
  return {
    targets,
    pollPass: ({ connection, tick, ...opts }) =>
      syncPass(mirror, connection === undefined ? targets : targets.filter((t) => t.stream.connection === connection), {
        ...opts,
        redact: ctx.redactor.redact,
        exclusive: (stream, fn) => leases.tryRun(stream, fn, tick ? { tick } : {}),
      }),
    close: async () => {},
  }
}

/** One human-readable line for a finished stream run (CLI summary, demo). */
export function summaryLine(r: StreamRunResult): string {
  const name = `${r.stream.connection}/${r.stream.stream}`
  const counts = `${r.mode}, ${plural(r.pages, 'page')}, ${r.seen} seen, ${r.changed} changed, ${r.deleted} deleted, ${plural(r.requests, 'request')}, ${(r.durationMs / 1000).toFixed(1)} s`
  const nul = r.nulBytesStripped ? `, ${plural(r.nulBytesStripped, 'NUL byte')} stripped` : ''
  if (r.status === 'succeeded') return `ok     ${name} (${counts}${nul})`
  return r.status === 'interrupted'
    ? `INTERRUPTED ${name} (${counts}): ${r.error?.message}`
    : `FAILED ${name} (${counts}): ${r.error?.code}: ${r.error?.message}`
}
