/**
 * The one assembly of the sync cycle, shared by the daemon (`elsync run`, `elsync demo`) and
 * `elsync sync`: one connector per connection (its streams share one rate budget), one
 * target per stream, the Postgres mirror, the stream leases (one replica runs a stream),
 * reconcile per mapping (one replica at a time, by the same leases) and the outbox executor.
 */
import { Registry } from 'prom-client'
import { DEFAULT_LEASE_SECONDS, type EnvSettings } from './config/env.js'
import { type Config, DEFAULT_OUTBOX_RETENTION_DAYS } from './config/schema.js'
import { createConnector } from './connectors/index.js'
import { connectorModule } from './connectors/registry.js'
import type { Sql } from './db/client.js'
import { createStreamLeases, type LeaseOptions } from './db/leases.store.js'
import { createPgMirror } from './db/mirror.store.js'
import { createPgTokenVault } from './db/vault.store.js'
import type { MappingConfig } from './config/schema.js'
import { createPgChangeFeed } from './db/feed.store.js'
import { createPgOutboxStore } from './db/outbox.store.js'
import { createPgReconcileStore } from './db/reconcile.store.js'
import { createPgRelatedStore } from './db/related.store.js'
import { createPgWatcherStore } from './db/watchers.store.js'
import { originsOf, type ChildPlanner } from './engine/children.plan.js'
import { createRelatedPlanner } from './engine/children.related.js'
import { createWatcherPlanner } from './engine/children.watchers.js'
import { createMarkerFormat, DEFAULT_MARKER, type MarkerFormat } from './engine/attribution.js'
import { createPgConflictStore } from './db/conflicts.store.js'
import { isMappingPaused } from './db/mappings.store.js'
import { resolveConflict, type Resolution } from './engine/resolve.js'
import type { OutboxOp, OutboxRow, Side } from './engine/write.types.js'
import type { FieldCatalog } from './engine/catalog.js'
import { SyncError, toSyncError, UnknownStreamError } from './engine/errors.js'
import { createPushExecutor, type PushExecutor } from './engine/push.js'
import { planLine, reconcileMapping, type ReconcileSummary } from './engine/reconcile.js'
import { planAttachments } from './engine/children.attachments.js'
import { createPgAttachmentCopies } from './db/attachments.store.js'
import type { MappingSpec } from './engine/write.types.js'
import type { StreamRunResult } from './engine/poll.js'
import type { Connector } from './engine/ports.js'
import { type SyncPassOptions, type SyncTarget, syncPass } from './engine/sync.js'
import type { StreamRef } from './engine/types.js'
import { createHttpMetrics, type HttpMetrics } from './http/metrics.js'
import type { TokenVault, WaitEvent } from './http/types.js'
import type { Logger, Redactor } from './logger.js'
import { createSyncMetrics } from './metrics.js'
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
function connectorPool(ctx: AppContext, deps: AppDeps, metrics: HttpMetrics, vault: TokenVault | undefined): (connection: string) => Connector {
  const onWait = deps.onWait
  const connectors = new Map<string, Connector>()
  return (name) => {
    let connector = connectors.get(name)
    if (!connector) {
      const config = ctx.config.connections[name]
      if (!config) throw new SyncError(`connection "${name}" is not configured`)
      connector = createConnector(name, config, {
        // watchers cost a request per record: read only where a mapping copies them from
        readWatchers: ctx.config.mappings.some((m) => originsOf(m.watchers).some((side) => m[side].connection === name)),
        logger: ctx.logger,
        redactor: ctx.redactor,
        metrics,
        markers: markerFormats(ctx.config, name),
        ...(vault ? { vault } : {}),
        ...(onWait ? { onWait } : {}),
      })
      connectors.set(name, connector)
    }
    return connector
  }
}

/** The create-marker formats of the mappings with a side on `connection` (elsync's own always among them), stripped by its normalizer. */
function markerFormats(config: Config, connection: string): MarkerFormat[] {
  const formats = new Map([[DEFAULT_MARKER.template, DEFAULT_MARKER]])
  for (const m of config.mappings) {
    if (m.marker === undefined || (m.left.connection !== connection && m.right.connection !== connection)) continue
    const f = createMarkerFormat(m.marker)
    formats.set(f.template, f)
  }
  return [...formats.values()]
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
      childBudget: config.childBudget ?? connectorModule(config.kind).defaults.childBudget ?? 0,
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
  /** Only this stream (of `connection`). */
  stream?: string
  /** The schedule tick this pass runs for: a tick that ran on another replica is not run again. */
  tick?: { schedule: string; at: Date }
  /** Only streams whose lease was orphaned by a replica that died (see `orphans`); others are skipped as busy. */
  takeover?: boolean
  /** A one-shot sync's wait for a stream another process holds (see `BusyWait`); absent: it is skipped at once. */
  waitForBusy?: BusyWait
  /** A daemon's fair share of streams at once (see `LeaseOptions.fairShare`); absent: no limit. */
  fairShare?: () => Promise<number>
}

/**
 * How long a one-shot command waits for work another process holds (a stream, a mapping, claimed
 * writes) before it gives up on it: the holder finishes and lets go, or it died and its lease runs out.
 */
export interface BusyWait {
  ms: number
  /** The wait began, for one stream or mapping (`elean/web`, `mapping it-requests`). */
  onWaiting?: (what: string) => void
}

export interface MappingReconcile {
  mappingId: string
  /** Skipped: another process is reconciling this mapping now. */
  busy: boolean
  /** Skipped: an admin paused this mapping (a dry run plans it all the same). */
  paused?: boolean
  summary: ReconcileSummary | null
  error: { code: string; message: string } | null
}

export interface ReconcilePassOptions {
  signal: AbortSignal
  /** Plan only: everything reconcile would write is rolled back; `summary.plan` lists the writes. */
  dryRun?: boolean
  /** Only the mappings that have a side on this connection. */
  connection?: string
  /** Only this mapping. */
  mapping?: string
  /** A one-shot sync's wait for a mapping another process is reconciling (see `BusyWait`); absent: it is skipped at once. */
  waitForBusy?: BusyWait
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
  /** An admin's pick of the winner of an open `manual` conflict: the value is queued for the other side (engine/resolve.ts). */
  resolveConflict(conflictId: number, winner: Side): Promise<Resolution>
  /** How long leases of streams, mappings and outbox rows live without a heartbeat. */
  readonly leaseMs: number
  /** This process's name on its leases (and, for a daemon, in `replicas`). */
  readonly owner: string
  /** Selected streams whose lease a dead replica left behind (it ran out while still owned): their runs are to be redone. */
  orphans(): Promise<StreamRef[]>
  /** Nothing of its own to close today; the database stays open (its owner closes it). */
  close(): Promise<void>
}

/** The config's validated mapping, as reconcile sees it (a `valuesFrom` table is read at each reconcile). */
export function mappingSpecOf(m: MappingConfig): MappingSpec {
  return {
    id: m.id,
    left: m.left,
    right: m.right,
    create: m.create,
    conflict: m.conflict,
    delete: m.delete,
    fields: m.fields.map((f) => ({
      left: f.left,
      right: f.right,
      direction: f.direction,
      ...(f.values ? { values: f.values } : {}),
      ...(f.valuesFrom ? { valuesFrom: f.valuesFrom } : {}),
    })),
    ...(m.marker !== undefined ? { marker: m.marker } : {}),
    attachments: m.attachments,
    related: m.related,
    watchers: m.watchers,
    comments: m.comments,
  }
}

/** The planners of a mapping's related items and watchers, where it copies them. */
function childPlannersOf(spec: MappingSpec, sql: Sql): ChildPlanner[] {
  const planners: ChildPlanner[] = []
  if (originsOf(spec.related).length > 0) planners.push(createRelatedPlanner({ mapping: spec, store: createPgRelatedStore(sql), planLine }))
  if (originsOf(spec.watchers).length > 0) planners.push(createWatcherPlanner({ mapping: spec, store: createPgWatcherStore(sql), planLine }))
  if (spec.attachments && spec.attachments.direction !== 'none') {
    const copies = createPgAttachmentCopies(sql)
    planners.push(async (o) => ({ ...(await planAttachments(spec, copies, o)), counts: {} }))
  }
  return planners
}

/** The name a connection's system goes by in a copied comment's footer (`— Jane Smith via Elean`): its kind, capitalized. */
export function systemNameOf(config: Config, connection: string): string {
  const kind = config.connections[connection]?.kind
  return kind === undefined || kind === 'rest' ? connection : `${kind.charAt(0).toUpperCase()}${kind.slice(1)}`
}

export function createApp(ctx: AppContext, deps: AppDeps): App {
  const streams = deps.streams ?? allStreams(ctx.config)
  const registry = deps.registry ?? new Registry()
  const connectorOf = connectorPool(ctx, deps, createHttpMetrics(registry, Object.keys(ctx.config.connections)), vaultFor(ctx, deps.db.sql))
  const metrics = createSyncMetrics(registry, streams)
  const targets = buildTargets(ctx, streams, connectorOf)
  const log = ctx.logger.child({ component: 'sync' })
  const failpoint = failpointOf(ctx.env)
  const mirror = createPgMirror(deps.db.sql, {
    onRetry: (operation, err) => log.warn({ operation, err }, 'database operation failed: retrying'),
    ...(failpoint && { afterStep: (step) => void (step === 'records' && failpoint('poll:mid-page')) }),
  })
  const leaseMs = ctx.env.leaseMs ?? DEFAULT_LEASE_SECONDS * 1000
  const leases = createStreamLeases(deps.db.sql, { ttlMs: leaseMs, ...(deps.onLeaseError ? { onError: deps.onLeaseError } : {}) })
  const specs = ctx.config.mappings.map((m) => {
    const spec = mappingSpecOf(m)
    return { config: m, spec, childPlanners: childPlannersOf(spec, deps.db.sql) }
  })
  const feed = createPgChangeFeed(deps.db.sql)
  const reconcileStore = createPgReconcileStore(deps.db.sql, { mappings: specs.map((s) => s.spec) })
  const conflictStore = createPgConflictStore(deps.db.sql)
  const executor = createPushExecutor({
    outbox: createPgOutboxStore(deps.db.sql),
    connectors: connectorOf,
    mirror,
    owner: leases.owner,
    // a claimed row may wait its turn in the connection's rate budget (Elean: 60 a minute): the
    // lease is renewed by a heartbeat meanwhile, and small batches keep the rows of other replicas moving
    leaseMs,
    batch: 10,
    retention: { keepMs: (ctx.config.outbox?.retentionDays ?? DEFAULT_OUTBOX_RETENTION_DAYS) * 86_400_000 },
    onPruned: (deleted) => void (deleted > 0 && log.info({ deleted }, 'outbox: finished writes past their retention deleted')),
    onPushed: (row, result) => {
      metrics.pushed(row.stream.connection, 'sent')
      log.info(
        {
          outboxId: row.id,
          mapping: row.mappingId,
          op: row.op,
          connection: row.stream.connection,
          remoteId: result.remoteId,
          ...(result.skippedFields && { leftOut: result.skippedFields.map((s) => s.name) }),
        },
        'pushed',
      )
    },
    onFailed: (row, failure) => {
      metrics.pushed(row.stream.connection, failure.retryAt === null ? 'dead' : 'failed')
      log.warn({ outboxId: row.id, mapping: row.mappingId, op: row.op, connection: row.stream.connection, failure }, 'push failed')
    },
    onError: (err, where) => log.error({ err, during: where.during, outboxId: where.row?.id }, 'outbox executor error'),
    ...(failpoint && { hooks: { afterClaim: (row) => failpoint('push:after-claim', row), afterSend: (row) => failpoint('push:after-send', row) } }),
  })

  async function reconcileOne({ spec, childPlanners }: (typeof specs)[number], opts: ReconcilePassOptions): Promise<MappingReconcile> {
    const run = () =>
      reconcileMapping({
        mapping: spec,
        feed,
        store: reconcileStore,
        catalogs: { left: catalogOf(spec.left.connection), right: catalogOf(spec.right.connection) },
        lookups: (connection) => connectorOf(connection).lookups,
        batchSize: 500,
        signal: opts.signal,
        childPlanners,
        systems: { left: systemNameOf(ctx.config, spec.left.connection), right: systemNameOf(ctx.config, spec.right.connection) },
        ...(opts.dryRun ? { dryRun: true } : {}),
        ...(failpoint && { hooks: { afterRecord: (handled: number) => void (handled === 1 && failpoint('reconcile:mid-batch')) } }),
      })
    try {
      // a dry run (a plan) is made for a paused mapping too; it asks all the same, so that it
      // reaches the mapping's lease after a reconcile that was asked for first
      const paused = await isMappingPaused(deps.db.sql, spec.id)
      if (paused && !opts.dryRun) return { mappingId: spec.id, busy: false, paused: true, summary: null, error: null }
      // one replica reconciles a mapping at a time: its offset is read and saved without a compare-and-set
      const summary = await leases.tryRun({ connection: MAPPING_LEASE, stream: spec.id }, () => run(), {
        ...(opts.waitForBusy && { wait: leaseWait(opts.waitForBusy, `mapping ${spec.id}`, opts.signal) }),
      })
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
  type MappingEntry = (typeof specs)[number]
  const turns = new Map<string, { current: Promise<MappingReconcile>; next: Promise<MappingReconcile> | null }>()
  const startTurn = (entry: MappingEntry, opts: ReconcilePassOptions): Promise<MappingReconcile> => {
    const id = entry.spec.id
    const current: Promise<MappingReconcile> = reconcileOne(entry, opts).finally(() => {
      const turn = turns.get(id)
      if (turn?.current === current && !turn.next) turns.delete(id)
    })
    turns.set(id, { current, next: null })
    return current
  }
  function reconcileInTurn(entry: MappingEntry, opts: ReconcilePassOptions): Promise<MappingReconcile> {
    if (opts.dryRun) return reconcileOne(entry, opts)
    const turn = turns.get(entry.spec.id)
    if (!turn) return startTurn(entry, opts)
    if (turn.next) return turn.next.then(() => ({ mappingId: entry.spec.id, busy: true, summary: null, error: null }))
    const next = turn.current.then(() => startTurn(entry, opts))
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
    leaseMs,
    owner: leases.owner,
    orphans: async () => {
      const selected = new Set(targets.map((t) => `${t.stream.connection}/${t.stream.stream}`))
      return (await leases.orphans()).filter((s) => selected.has(`${s.connection}/${s.stream}`))
    },
    reconcilePass: async (opts) => {
      const out: MappingReconcile[] = []
      for (const one of specs) {
        const { spec } = one
        if (opts.connection !== undefined && spec.left.connection !== opts.connection && spec.right.connection !== opts.connection) continue
        if (opts.mapping !== undefined && spec.id !== opts.mapping) continue
        if (opts.signal.aborted) break
        out.push(await reconcileInTurn(one, opts))
      }
      return out
    },
    pollPass: ({ connection, stream, tick, takeover, waitForBusy, fairShare, onStreamDone, ...opts }) =>
      syncPass(
        mirror,
        targets.filter((t) => (connection === undefined || t.stream.connection === connection) && (stream === undefined || t.stream.stream === stream)),
        {
          ...opts,
          onStreamDone: (r) => {
            metrics.runFinished(r)
            onStreamDone?.(r)
          },
          redact: ctx.redactor.redact,
          exclusive: (s, fn) =>
            leases.tryRun(s, fn, {
              ...(tick ? { tick } : {}),
              ...(takeover ? { takeover } : {}),
              ...(fairShare ? { fairShare } : {}),
              ...(waitForBusy && { wait: leaseWait(waitForBusy, `${s.connection}/${s.stream}`, opts.signal) }),
            }),
        },
      ),
    resolveConflict: (conflictId, winner) =>
      resolveConflict({
        store: conflictStore,
        conflictId,
        winner,
        mapping: (id) => {
          const spec = specs.find((s) => s.spec.id === id)?.spec
          return spec ? { spec, catalogs: { left: catalogOf(spec.left.connection), right: catalogOf(spec.right.connection) } } : null
        },
      }),
    close: async () => {},
  }
}

function leaseWait(w: BusyWait, what: string, signal: AbortSignal): NonNullable<LeaseOptions['wait']> {
  return { ms: w.ms, signal, ...(w.onWaiting && { onWaiting: () => w.onWaiting?.(what) }) }
}

/** The named crash points of issue 9, where `ELSYNC_FAILPOINT=<name>` kills the process. */
export const FAILPOINTS = ['poll:mid-page', 'reconcile:mid-batch', 'push:after-claim', 'push:after-send'] as const
export type Failpoint = (typeof FAILPOINTS)[number]
/** The points passed by one outbox row, which a fail-point may narrow to one operation and target. */
export const PUSH_FAILPOINTS = ['push:after-claim', 'push:after-send'] as const satisfies readonly Failpoint[]
type PushFailpoint = (typeof PUSH_FAILPOINTS)[number]
/**
 * What `ELSYNC_FAILPOINT` may name: a point, or a push point narrowed to rows of one operation
 * (`push:after-send@comment`), optionally to one target connection (`push:after-send@attachment/elean`),
 * so that a crash test can strike right after a comment or an attachment reached one vendor.
 */
export type ArmedFailpoint = Failpoint | `${PushFailpoint}@${OutboxOp}` | `${PushFailpoint}@${OutboxOp}/${string}`

/** Whether the armed fail-point `armed` strikes at point `name` (passed by `row`, for the push points). */
export function failpointStrikes(armed: string, name: Failpoint, row?: Pick<OutboxRow, 'op' | 'stream'>): boolean {
  const at = armed.indexOf('@')
  if (at < 0) return armed === name
  if (armed.slice(0, at) !== name || row === undefined) return false
  const [op, connection] = armed.slice(at + 1).split('/', 2)
  return row.op === op && (connection === undefined || row.stream.connection === connection)
}

/**
 * Crash tests only: the process dies at the configured point, at once and without cleanup,
 * as it would on an OOM kill or a power cut (SIGKILL runs no handler and no `finally`).
 */
function failpointOf(env: EnvSettings): ((name: Failpoint, row?: OutboxRow) => void) | undefined {
  const armed = env.failpoint
  if (armed === undefined) return undefined
  return (name, row) => {
    if (failpointStrikes(armed, name, row)) process.kill(process.pid, 'SIGKILL')
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
  if (r.paused) return `skipped mapping ${r.mappingId}: paused by an admin\n`
  if (r.error) return `FAILED mapping ${r.mappingId}: ${r.error.code}: ${r.error.message}\n`
  const s = r.summary
  if (!s) return ''
  const children = Object.entries(s.children ?? {})
    .filter(([, n]) => n > 0)
    .map(([what, n]) => `, ${n} ${what}`)
    .join('')
  const counts = `${s.changes} changes, ${s.records} records, ${s.requests.length} writes ${dryRun ? 'planned' : 'queued'}, ${s.conflicts.length} conflicts${s.errors.length ? `, ${s.errors.length} errors` : ''}${children}`
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
