/**
 * The one assembly of the sync cycle, shared by the daemon (`elsync run`, `elsync demo`) and
 * `elsync sync`: one connector per connection (its streams share one rate budget), one
 * target per stream, the Postgres mirror, the stream leases (one replica runs a stream),
 * reconcile per mapping (one replica at a time, by the same leases) and the outbox executor.
 */
import { Registry } from 'prom-client'
import type { EnvSettings } from './config/env.js'
import type { Config } from './config/schema.js'
import { createConnector } from './connectors/index.js'
import type { Sql } from './db/client.js'
import { createStreamLeases } from './db/leases.store.js'
import { createPgMirror } from './db/mirror.store.js'
import { createPgTokenVault } from './db/vault.store.js'
import type { MappingConfig } from './config/schema.js'
import { createPgChangeFeed } from './db/feed.store.js'
import { createPgOutboxStore } from './db/outbox.store.js'
import { createPgReconcileStore } from './db/reconcile.store.js'
import type { FieldCatalog } from './engine/catalog.js'
import { SyncError, toSyncError, UnknownStreamError } from './engine/errors.js'
import { createPushExecutor, type PushExecutor } from './engine/push.js'
import { reconcileMapping, type ReconcileSummary } from './engine/reconcile.js'
import type { MappingSpec } from './engine/write.types.js'
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

/** One connector per connection, built when first needed (its streams, reconcile and push share its rate budget). */
function connectorPool(ctx: AppContext, deps: AppDeps, vault: TokenVault | undefined): (connection: string) => Connector {
  const metrics = createHttpMetrics(deps.registry ?? new Registry())
  const onWait = deps.onWait
  const connectors = new Map<string, Connector>()
  return (name) => {
    let connector = connectors.get(name)
    if (!connector) {
      const config = ctx.config.connections[name]
      if (!config) throw new SyncError(`connection "${name}" is not configured`)
      connector = createConnector(name, config, {
        logger: ctx.logger,
        redactor: ctx.redactor,
        metrics,
        ...(vault ? { vault } : {}),
        ...(onWait ? { onWait } : {}),
      })
      connectors.set(name, connector)
    }
    return connector
  }
}

/** One target per selected stream. */
function buildTargets(ctx: AppContext, streams: readonly StreamRef[], connectorOf: (connection: string) => Connector): SyncTarget[] {
  return streams.map((sel) => {
    const config = ctx.config.connections[sel.connection]
    const stream = config?.streams[sel.stream]
    if (!config || !stream) throw new UnknownStreamError(sel)
    const connector = connectorOf(sel.connection)
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

/** Leases of mappings live beside those of streams, under this pseudo-connection (not a valid connection name). */
const MAPPING_LEASE = '#mapping'

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

export interface MappingReconcile {
  mappingId: string
  /** Skipped: another process is reconciling this mapping now. */
  busy: boolean
  summary: ReconcileSummary | null
  error: { code: string; message: string } | null
}

export interface ReconcilePassOptions {
  signal: AbortSignal
  /** Plan only: everything reconcile would write is rolled back; `summary.plan` lists the writes. */
  dryRun?: boolean
  /** Only the mappings that have a side on this connection. */
  connection?: string
}

export interface App {
  readonly targets: readonly SyncTarget[]
  /**
   * Polls the streams once. A stream another process is running (it holds the stream's
   * lease), or whose tick already ran elsewhere, is skipped and reported to `onBusy`.
   */
  pollPass(opts: PollPassOptions): Promise<StreamRunResult[]>
  /** Reconciles each mapping from its stored offset: links, merges, conflicts and queued writes. */
  reconcilePass(opts: ReconcilePassOptions): Promise<MappingReconcile[]>
  /** The outbox executor: `drain` pushes what is due now, `run` keeps pushing until aborted. */
  readonly executor: PushExecutor
  /** Nothing of its own to close today; the database stays open (its owner closes it). */
  close(): Promise<void>
}

/** The config's validated mapping, as reconcile sees it. */
export function mappingSpecOf(m: MappingConfig): MappingSpec {
  const valuesFrom = m.fields.find((f) => f.valuesFrom !== undefined)
  if (valuesFrom) throw new SyncError(`mapping ${m.id}: value maps from an elastic.io lookup table (valuesFrom) are not supported yet; list the values inline`)
  return {
    id: m.id,
    left: m.left,
    right: m.right,
    create: m.create,
    conflict: m.conflict,
    delete: m.delete,
    fields: m.fields.map((f) => ({ left: f.left, right: f.right, direction: f.direction, ...(f.values ? { values: f.values } : {}) })),
    ...(m.marker !== undefined ? { marker: m.marker } : {}),
  }
}

export function createApp(ctx: AppContext, deps: AppDeps): App {
  const streams = deps.streams ?? allStreams(ctx.config)
  const connectorOf = connectorPool(ctx, deps, vaultFor(ctx, deps.db.sql))
  const targets = buildTargets(ctx, streams, connectorOf)
  const log = ctx.logger.child({ component: 'sync' })
  const failpoint = failpointOf(ctx.env)
  const mirror = createPgMirror(deps.db.sql, {
    onRetry: (operation, err) => log.warn({ operation, err }, 'database operation failed: retrying'),
    ...(failpoint && { afterStep: (step) => void (step === 'records' && failpoint('poll:mid-page')) }),
  })
  const leases = createStreamLeases(deps.db.sql, deps.onLeaseError ? { onError: deps.onLeaseError } : {})
  const specs = ctx.config.mappings.map((m) => ({ config: m, spec: mappingSpecOf(m) }))
  const feed = createPgChangeFeed(deps.db.sql)
  const reconcileStore = createPgReconcileStore(deps.db.sql, { mappings: specs.map((s) => s.spec) })
  const executor = createPushExecutor({
    outbox: createPgOutboxStore(deps.db.sql),
    connectors: connectorOf,
    mirror,
    owner: leases.owner,
    // a claimed row may wait its turn in the connection's rate budget (Elean: 60 a minute):
    // small batches and a long lease, so that waiting never costs a row its lease
    leaseMs: 300_000,
    batch: 10,
    onPushed: (row, result) =>
      log.info({ outboxId: row.id, mapping: row.mappingId, op: row.op, connection: row.stream.connection, remoteId: result.remoteId }, 'pushed'),
    onFailed: (row, failure) => log.warn({ outboxId: row.id, mapping: row.mappingId, op: row.op, connection: row.stream.connection, failure }, 'push failed'),
    onError: (err, where) => log.error({ err, during: where.during, outboxId: where.row?.id }, 'outbox executor error'),
    ...(failpoint && { hooks: { afterClaim: () => failpoint('push:after-claim'), afterSend: () => failpoint('push:after-send') } }),
  })

  async function reconcileOne(spec: MappingSpec, opts: ReconcilePassOptions): Promise<MappingReconcile> {
    const run = () =>
      reconcileMapping({
        mapping: spec,
        feed,
        store: reconcileStore,
        catalogs: { left: catalogOf(spec.left.connection), right: catalogOf(spec.right.connection) },
        batchSize: 500,
        signal: opts.signal,
        ...(opts.dryRun ? { dryRun: true } : {}),
        ...(failpoint && { hooks: { afterRecord: (handled: number) => void (handled === 1 && failpoint('reconcile:mid-batch')) } }),
      })
    try {
      // one replica reconciles a mapping at a time: its offset is read and saved without a compare-and-set
      const summary = await leases.tryRun({ connection: MAPPING_LEASE, stream: spec.id }, () => run())
      if (summary === 'busy' || summary === 'tick-done') return { mappingId: spec.id, busy: true, summary: null, error: null }
      return { mappingId: spec.id, busy: false, summary, error: null }
    } catch (err) {
      const e = toSyncError(err)
      return { mappingId: spec.id, busy: false, summary: null, error: { code: e.code, message: ctx.redactor.redact(e.message) } }
    }
  }
  // In this process a reconcile of a mapping that is reconciling already waits and runs after
  // it, instead of being skipped as busy: the caller's poll may have committed changes after the
  // running one read the feed, and a skip would leave them to the next tick (a whole poll
  // interval). Callers that come while one waits share its run, which starts after their polls.
  // Dry runs keep the lease's answer (busy): they write nothing that could be late.
  const turns = new Map<string, { current: Promise<MappingReconcile>; next: Promise<MappingReconcile> | null }>()
  const startTurn = (spec: MappingSpec, opts: ReconcilePassOptions): Promise<MappingReconcile> => {
    const current: Promise<MappingReconcile> = reconcileOne(spec, opts).finally(() => {
      const turn = turns.get(spec.id)
      if (turn?.current === current && !turn.next) turns.delete(spec.id)
    })
    turns.set(spec.id, { current, next: null })
    return current
  }
  function reconcileInTurn(spec: MappingSpec, opts: ReconcilePassOptions): Promise<MappingReconcile> {
    if (opts.dryRun) return reconcileOne(spec, opts)
    const turn = turns.get(spec.id)
    if (!turn) return startTurn(spec, opts)
    if (turn.next) return turn.next.then(() => ({ mappingId: spec.id, busy: true, summary: null, error: null }))
    const next = turn.current.then(() => startTurn(spec, opts))
    turn.next = next
    return next
  }
  const catalogOf = (connection: string): FieldCatalog => {
    const fields = connectorOf(connection).fields
    if (!fields) throw new SyncError(`connection "${connection}" has no field catalog`)
    return fields
  }

  return {
    targets,
    executor,
    reconcilePass: async (opts) => {
      const out: MappingReconcile[] = []
      for (const { spec } of specs) {
        if (opts.connection !== undefined && spec.left.connection !== opts.connection && spec.right.connection !== opts.connection) continue
        if (opts.signal.aborted) break
        out.push(await reconcileInTurn(spec, opts))
      }
      return out
    },
    pollPass: ({ connection, tick, ...opts }) =>
      syncPass(mirror, connection === undefined ? targets : targets.filter((t) => t.stream.connection === connection), {
        ...opts,
        redact: ctx.redactor.redact,
        exclusive: (stream, fn) => leases.tryRun(stream, fn, tick ? { tick } : {}),
      }),
    close: async () => {},
  }
}

/** The named crash points of issue 9, where `ELSYNC_FAILPOINT=<name>` kills the process. */
export const FAILPOINTS = ['poll:mid-page', 'reconcile:mid-batch', 'push:after-claim', 'push:after-send'] as const
export type Failpoint = (typeof FAILPOINTS)[number]

/**
 * Crash tests only: the process dies at the configured point, at once and without cleanup,
 * as it would on an OOM kill or a power cut (SIGKILL runs no handler and no `finally`).
 */
function failpointOf(env: EnvSettings): ((name: Failpoint) => void) | undefined {
  const armed = env.failpoint
  if (armed === undefined) return undefined
  return (name) => {
    if (name === armed) process.kill(process.pid, 'SIGKILL')
  }
}

/** One human-readable line for a finished stream run (CLI summary, demo). */
export function summaryLine(r: StreamRunResult): string {
  const name = `${r.stream.connection}/${r.stream.stream}`
  const counts = `${r.mode}, ${plural(r.pages, 'page')}, ${r.seen} seen, ${r.changed} changed, ${r.deleted} deleted, ${plural(r.requests, 'request')}, ${(r.durationMs / 1000).toFixed(1)} s`
  // what needs a look, on success and failure alike: the run saved pages before it failed
  const notes = [
    r.quarantined ? `${r.quarantined} quarantined` : '',
    r.childrenStale ? `${r.childrenStale} with children not read` : '',
    r.nulBytesStripped ? `${plural(r.nulBytesStripped, 'NUL byte')} stripped` : '',
  ]
    .filter(Boolean)
    .map((n) => `, ${n}`)
    .join('')
  if (r.status === 'succeeded') return `ok     ${name} (${counts}${notes})`
  return r.status === 'interrupted'
    ? `INTERRUPTED ${name} (${counts}${notes}): ${r.error?.message}`
    : `FAILED ${name} (${counts}${notes}): ${r.error?.code}: ${r.error?.message}`
}

const QUEUED_LINES = 5

/**
 * What reconcile did for one mapping, then one line per write and per error: all of them for
 * a dry run, the first few of each for a real one (the daemon's lines show where a change
 * goes; a first sync may queue thousands).
 */
export function reconcileLines(r: MappingReconcile, dryRun: boolean): string {
  if (r.busy) return `skipped mapping ${r.mappingId}: another elsync process is reconciling it\n`
  if (r.error) return `FAILED mapping ${r.mappingId}: ${r.error.code}: ${r.error.message}\n`
  const s = r.summary
  if (!s) return ''
  const counts = `${s.changes} changes, ${s.records} records, ${s.requests.length} writes ${dryRun ? 'planned' : 'queued'}, ${s.conflicts.length} conflicts${s.errors.length ? `, ${s.errors.length} errors` : ''}`
  const listed = (lines: string[], what: string) => {
    const shown = dryRun ? lines : lines.slice(0, QUEUED_LINES)
    const more = lines.length - shown.length
    return shown.map((l) => `  ${l}\n`).join('') + (more > 0 ? `  … and ${plural(more, `more ${what}`)}\n` : '')
  }
  const plan = listed(s.plan, 'write')
  const errors = listed(
    s.errors.map((e) => `error ${e.stream.connection} ${e.remoteId}${e.field ? ` ${e.field}` : ''}: ${e.code}: ${e.message}`),
    'error',
  )
  return `mapping ${r.mappingId}: ${counts}\n${plan}${errors}`
}
