import { setTimeout as sleep } from 'node:timers/promises'
import { AdminError, notFound } from './admin/errors.js'
import type { AdminApi, MappingPlan } from './admin/types.js'
import { allStreams, type App } from './app.js'
import type { Config } from './config/schema.js'
import type { Sql } from './db/client.js'
import { listConflicts } from './db/conflicts.store.js'
import { isMappingPaused, queuedWrites, setMappingPaused } from './db/mappings.store.js'
import { listOutbox, retryOutboxRow } from './db/outbox.store.js'
import type { ResyncQueue } from './db/resync.store.js'
import { findRun, listRuns } from './db/run.store.js'
import { streamStatuses } from './db/streams.store.js'
import { ResolveError } from './engine/resolve.js'

/**
 * The admin API's ports over the config, the stores and the app: names are checked against
 * the config (an unknown connection, stream or mapping is 404), everything else is one store
 * query or one engine operation.
 */
/** How long a plan waits for a reconcile of its mapping in progress before answering 409 `busy`. */
const PLAN_WAIT_MS = 15_000

export interface AdminApiDeps {
  sql: Sql
  config: Config
  app: Pick<App, 'reconcilePass' | 'resolveConflict'>
  resyncQueue: ResyncQueue
  /** Wakes this process's resync worker. */
  onResyncQueued?: () => void
  /** Aborted when the daemon stops: a plan in progress ends with it. */
  signal: AbortSignal
}

export function createAdminApi(deps: AdminApiDeps): AdminApi {
  const { sql, config } = deps
  const connectionOf = (name: string) => {
    const c = Object.hasOwn(config.connections, name) ? config.connections[name] : undefined
    if (!c) throw notFound(`no connection "${name}"`)
    return c
  }
  const mappingOf = (id: string) => {
    const m = config.mappings.find((x) => x.id === id)
    if (!m) throw notFound(`no mapping "${id}"`)
    return m
  }

  /** A list's query, once the names it filters by are known to the config (else 404). */
  const known = <Q extends { connection?: string; mapping?: string }>(q: Q): Q => {
    if (q.connection !== undefined) connectionOf(q.connection)
    if (q.mapping !== undefined) mappingOf(q.mapping)
    return q
  }
  const found = <T>(row: T | null, missing: string): T => {
    if (row === null) throw notFound(missing)
    return row
  }

  return {
    streams: () => streamStatuses(sql, allStreams(config)),

    async resync({ connection, stream, mode, since }) {
      const c = connectionOf(connection)
      if (stream !== undefined && !Object.hasOwn(c.streams, stream)) throw notFound(`connection ${connection} has no stream "${stream}"`)
      const streams = (stream === undefined ? Object.keys(c.streams) : [stream]).map((s) => ({ connection, stream: s }))
      const ids = await deps.resyncQueue.enqueue(streams, { mode, since: since ?? null })
      deps.onResyncQueued?.()
      return ids
    },

    runs: (q) => listRuns(sql, known(q)),
    run: async (id) => found(await findRun(sql, id), `no run ${id}`),
    outbox: (q) => listOutbox(sql, known(q)),

    async retryOutbox(id) {
      const r = await retryOutboxRow(sql, id)
      if (r.state === null) throw notFound(`no outbox row ${id}`)
      if (!r.retried)
        throw new AdminError(409, 'not_retryable', `outbox row ${id} is ${r.state}: only a dead row, or a failed one no executor holds, can be retried`)
      return { id, state: 'pending' }
    },

    conflicts: (q) => listConflicts(sql, known(q)),

    async resolveConflict(id, winner) {
      try {
        return await deps.app.resolveConflict(id, winner)
      } catch (err) {
        if (err instanceof ResolveError) throw err.code === 'conflict_not_found' ? notFound(err.message) : new AdminError(409, err.code, err.message)
        throw err
      }
    },

    async setPaused(mappingId, paused) {
      mappingOf(mappingId)
      await setMappingPaused(sql, mappingId, paused)
      return { mapping: mappingId, paused }
    },

    async plan(mappingId): Promise<MappingPlan> {
      mappingOf(mappingId)
      // a reconcile of the mapping in progress (after every poll) holds its lease: wait for it a while
      const deadline = Date.now() + PLAN_WAIT_MS
      let [r] = await deps.app.reconcilePass({ signal: deps.signal, dryRun: true, mapping: mappingId })
      while (r?.busy && Date.now() < deadline && !deps.signal.aborted) {
        await sleep(200, undefined, { signal: deps.signal }).catch(() => {})
        ;[r] = await deps.app.reconcilePass({ signal: deps.signal, dryRun: true, mapping: mappingId })
      }
      if (!r || r.busy) throw new AdminError(409, 'busy', `mapping ${mappingId} is being reconciled right now: ask again in a moment`)
      if (r.error || !r.summary) throw new AdminError(409, r.error?.code ?? 'plan_failed', r.error?.message ?? 'the plan could not be made')
      const s = r.summary
      return {
        mapping: mappingId,
        paused: await isMappingPaused(sql, mappingId),
        queuedWrites: await queuedWrites(sql, mappingId),
        changes: s.changes,
        records: s.records,
        writes: s.requests.map((w) => ({
          target: w.target,
          connection: w.stream.connection,
          stream: w.stream.stream,
          op: w.op,
          remoteId: w.remoteId,
          values: w.values,
        })),
        plan: s.plan,
        conflicts: s.conflicts.map((c) => ({ linkId: c.linkId, field: c.field, leftValue: c.leftValue, rightValue: c.rightValue, winner: c.winner })),
        errors: s.errors.map((e) => ({
          connection: e.stream.connection,
          stream: e.stream.stream,
          remoteId: e.remoteId,
          ...(e.field !== undefined ? { field: e.field } : {}),
          code: e.code,
          message: e.message,
        })),
      }
    },
  }
}
