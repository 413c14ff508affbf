import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import { askAgain } from '../engine/ask-again.js'
import { SyncError } from '../engine/errors.js'
import type { StreamRef } from '../engine/types.js'
import type { Sql } from './client.js'
import { withDbRetry } from './transient.js'

/**
 * Stream leases (table `stream_leases`): each stream is polled by the replica that holds
 * its lease. A lease is taken in one statement, kept alive by a heartbeat and released
 * at the end; a replica that dies loses it when it expires. A scheduled run names its
 * tick: a tick that already ran on another replica is not run again.
 */
export interface LeaseOptions {
  /** The schedule tick this run belongs to (`poll:elean` at 10:01:00); absent for manual runs. */
  tick?: { schedule: string; at: Date }
  /** Take the lease only if it is still orphaned (see `orphans`): of several replicas, one takes a dead one's stream over. */
  takeover?: boolean
  /**
   * A one-shot command's wait: while another owner holds the lease, ask again until it is released
   * or runs out (its owner died), up to `ms`; `onWaiting` is called once, when the wait begins.
   */
  wait?: { ms: number; signal: AbortSignal; onWaiting?: () => void }
  /**
   * A daemon's fair share: the most streams this replica should run at once (⌈streams ÷ live
   * replicas⌉). A lease is not taken ('busy': another replica will run it) while this process
   * already runs that many streams taken with a share; a share that cannot be read sets no limit.
   */
  fairShare?: () => Promise<number>
}

/** How often a waiting `tryRun` asks for the lease again. */
const WAIT_STEP_MS = 250

/** Why a run did not start: another owner holds the lease, or this tick already ran elsewhere. */
export type LeaseRefusal = 'busy' | 'tick-done'

export interface StreamLeases {
  readonly owner: string
  /**
   * Runs `fn` while holding the stream's lease. `fn` gets a signal that aborts when the
   * lease is lost (a heartbeat found another owner, or could not renew before expiry).
   */
  tryRun<T>(stream: StreamRef, fn: (leaseLost: AbortSignal) => Promise<T>, opts?: LeaseOptions): Promise<T | LeaseRefusal>
  /**
   * Leases that ran out while their owner still held them: a release clears the owner, so that
   * owner stopped heartbeating mid-run (it died, or lost the database). Its run is to be redone.
   */
  orphans(): Promise<StreamRef[]>
}

export interface StreamLeaseSettings {
  /** How long a lease lives without a heartbeat (default 30 s, heartbeats every third of it): a dead replica's streams move on after this. */
  ttlMs?: number
  owner?: string
  /** Errors of heartbeats and releases (the database may be away); they never throw. */
  onError?: (err: unknown, what: 'heartbeat' | 'release') => void
}

export const DEFAULT_LEASE_TTL_MS = 30_000

export function newOwnerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`
}

export function createStreamLeases(sql: Sql, settings: StreamLeaseSettings = {}): StreamLeases {
  const owner = settings.owner ?? newOwnerId()
  const ttlMs = settings.ttlMs ?? DEFAULT_LEASE_TTL_MS
  const onError = settings.onError ?? (() => {})

  // streams this process is running now: a lease row that names this owner but no run here is
  // one whose release failed (the database was away) and may be taken again at once
  const running = new Set<string>()
  // of those, the streams taken under a fair share
  const shared = new Set<string>()
  const keyOf = (s: StreamRef) => `${s.connection}/${s.stream}`

  // leases taken with a share are taken one at a time, each counted once it is held: parallel
  // lanes of this process never both pass the share, nor does one lose its turn to another's
  // attempt that the database then refuses
  let turn: Promise<unknown> = Promise.resolve()
  function shareTurn(fairShare: () => Promise<number>, key: string, take: () => Promise<true | LeaseRefusal>): Promise<true | LeaseRefusal> {
    const mine = turn.then(async () => {
      const share = await fairShare().catch(() => Number.POSITIVE_INFINITY)
      if (shared.size >= share) return 'busy' as const
      const r = await take()
      if (r === true) shared.add(key)
      return r
    })
    turn = mine.catch(() => {})
    return mine
  }

  async function acquire(stream: StreamRef, opts: LeaseOptions): Promise<true | LeaseRefusal> {
    const schedule = opts.tick?.schedule ?? null
    const at = opts.tick?.at.toISOString() ?? null
    if (opts.takeover) {
      const taken = await sql`
        update elsync.stream_leases set owner = ${owner}, expires_at = now() + make_interval(secs => ${ttlMs / 1000}),
          heartbeat_at = now(), acquired_at = now()
        where connection = ${stream.connection} and stream = ${stream.stream}
          and owner is not null and owner <> ${owner} and expires_at <= now()
        returning 1`
      return taken.length > 0 ? true : 'busy'
    }
    const taken = await sql`
      insert into elsync.stream_leases as l (connection, stream, owner, expires_at, heartbeat_at, acquired_at, last_ticks)
      values (${stream.connection}, ${stream.stream}, ${owner}, now() + make_interval(secs => ${ttlMs / 1000}), now(), now(),
              case when ${schedule}::text is null then '{}'::jsonb else jsonb_build_object(${schedule}::text, ${at}::timestamptz) end)
      on conflict (connection, stream) do update set
        owner = excluded.owner, expires_at = excluded.expires_at, heartbeat_at = excluded.heartbeat_at,
        acquired_at = excluded.acquired_at, last_ticks = l.last_ticks || excluded.last_ticks
      where (l.owner is null or l.expires_at <= now() or l.owner = ${owner})
        and (${schedule}::text is null or (l.last_ticks->>${schedule}::text) is null
             or (l.last_ticks->>${schedule}::text)::timestamptz < ${at}::timestamptz)
      returning 1`
    if (taken.length > 0) return true
    if (schedule === null) return 'busy'
    const [row] = await sql<{ done: boolean }[]>`
      select coalesce((last_ticks->>${schedule})::timestamptz >= ${at}::timestamptz, false) as done
      from elsync.stream_leases where connection = ${stream.connection} and stream = ${stream.stream}`
    return row?.done ? 'tick-done' : 'busy'
  }

  return {
    owner,
    async orphans() {
      const rows = await sql<StreamRef[]>`
        select connection, stream from elsync.stream_leases
        where owner is not null and owner <> ${owner} and expires_at <= now()
        order by connection, stream`
      return rows.map((r) => ({ connection: r.connection, stream: r.stream }))
    },
    async tryRun(stream, fn, opts = {}) {
      // claimed locally before the database is asked, so two runs of this process never both pass
      if (running.has(keyOf(stream))) return 'busy'
      running.add(keyOf(stream))
      // taking a lease is one idempotent statement: run again after a dropped connection
      const take = () => withDbRetry(() => acquire(stream, opts), { what: `taking the lease of ${keyOf(stream)}`, maxMs: 10_000 })
      const acquired = await (opts.fairShare ? shareTurn(opts.fairShare, keyOf(stream), take) : opts.wait ? waitFor(take, opts.wait) : take()).catch(
        (err: unknown) => {
          running.delete(keyOf(stream))
          throw err
        },
      )
      if (acquired !== true) {
        running.delete(keyOf(stream))
        return acquired
      }
      const lost = new AbortController()
      let validUntil = Date.now() + ttlMs
      const beat = setInterval(
        () => {
          void sql`
          update elsync.stream_leases set expires_at = now() + make_interval(secs => ${ttlMs / 1000}), heartbeat_at = now()
          where connection = ${stream.connection} and stream = ${stream.stream} and owner = ${owner}
          returning 1`.then(
            (rows) => {
              if (rows.length === 0) lost.abort(new LeaseLostError(stream, 'another replica took it over'))
              else validUntil = Date.now() + ttlMs
            },
            (err) => {
              onError(err, 'heartbeat')
              // unrenewed past its expiry, another replica may hold it now: stop writing
              if (Date.now() >= validUntil) lost.abort(new LeaseLostError(stream, 'it could not be renewed before it expired'))
            },
          )
        },
        Math.max(50, Math.floor(ttlMs / 3)),
      )
      try {
        return await fn(lost.signal)
      } finally {
        running.delete(keyOf(stream))
        shared.delete(keyOf(stream))
        clearInterval(beat)
        await sql`
          update elsync.stream_leases set owner = null, expires_at = now()
          where connection = ${stream.connection} and stream = ${stream.stream} and owner = ${owner}`.catch((err: unknown) => onError(err, 'release'))
      }
    },
  }
}

/** Takes the lease, asking again while it is busy, until the wait's time is up or its signal aborts. */
async function waitFor(take: () => Promise<true | LeaseRefusal>, wait: NonNullable<LeaseOptions['wait']>): Promise<true | LeaseRefusal> {
  const until = Date.now() + wait.ms
  const first = await take()
  if (first !== 'busy' || wait.ms <= 0) return first
  wait.onWaiting?.()
  return askAgain(first, take, (r) => r === 'busy', { until, everyMs: WAIT_STEP_MS, signal: wait.signal })
}

export class LeaseLostError extends SyncError {
  override readonly code = 'lease_lost'
  override readonly retryable = true
  constructor(stream: StreamRef, why: string) {
    super(`lost the lease of stream ${stream.connection}/${stream.stream}: ${why}`)
  }
}
