import { askAgain } from './ask-again.js'
import { createWakeup } from './wakeup.js'
import type { Connector, MirrorStore } from './ports.js'
import { type Backoff, classifyFailure, DEFAULT_BACKOFF } from './push.failure.js'
import { performPush } from './push.row.js'
import type { OutboxRow, OutboxStore, PushFailure, PushResult } from './write.types.js'

/**
 * The outbox executor (DESIGN §2 "Push"): claims due rows under a lease, performs each
 * through its target connector, records the answer, and retries failures with backoff
 * until they are parked as dead.
 *
 * Ordering: rows of one link must reach the vendor in id order (an update never overtakes
 * its create). Only the store can see rows another executor holds, so its `claim` returns a
 * row only when no earlier row of the same link is unfinished (pending, failed or dead).
 * Within a batch the executor keeps the order too: a link's rows run one after the other
 * in one lane, and once one of them fails the rest of that link waits for a later claim.
 *
 * Leases: a claimed batch's leases are renewed by a heartbeat (every third of the lease) while
 * its rows wait their turn (a connection's rate budget may hold them for minutes), so the
 * lease can be short and the rows of an executor that died are claimed again soon. A row runs
 * only while at least half its lease is left, and its requests are aborted when three
 * quarters have passed without a renewal, so the answer is recorded while the lease still
 * holds and no other executor can have claimed the row meanwhile. Rows claimed but never
 * started (shutdown, an earlier row of their link failed) are released at the end of the batch.
 */

export interface PushExecutorOptions {
  outbox: OutboxStore
  /** The connector of a connection; may throw for a connection that no longer exists (the row is parked). */
  connectors: (connection: string) => Connector
  mirror: MirrorStore
  /** This executor's lease owner name (unique per replica). */
  owner: string
  leaseMs: number
  /** How often the leases of a batch in progress are renewed (default a third of `leaseMs`). */
  heartbeatMs?: number
  /** Rows per claim (default 20). */
  batch?: number
  /** Lanes pushed at once; a lane is one connection's rows (default 4). */
  parallel?: number
  /** Attempts before a retryable failure parks the row as dead (default 8). */
  maxAttempts?: number
  backoff?: Backoff
  /** How long `run` waits between drains unless `notify` wakes it (default 5 s). */
  pollMs?: number
  now?: () => Date
  random?: () => number
  onPushed?: (row: OutboxRow, result: PushResult) => void
  onFailed?: (row: OutboxRow, failure: PushFailure) => void
  /**
   * The write ledger's retention: `run` deletes finished rows (sent, ignored, superseded) older
   * than `keepMs` when it starts and then every `everyMs` (default an hour); dead rows are kept.
   * Absent: nothing is deleted.
   */
  retention?: { keepMs: number; everyMs?: number }
  /** Rows a prune deleted. */
  onPruned?: (deleted: number) => void
  /**
   * Crash tests' points (issue 9): after a row is claimed and before it is sent, and after the
   * vendor answered and before the answer is recorded. A hook that throws fails the row.
   */
  hooks?: PushHooks
  /** A failure of the executor's own bookkeeping (claim, mark, mirror), reported and counted, never thrown out of `run`. */
  onError?: (err: unknown, ctx: { during: Bookkeeping; row?: OutboxRow }) => void
}

type Bookkeeping = 'drain' | 'mark' | 'mirror' | 'prune' | 'heartbeat' | 'release'

export interface PushHooks {
  afterClaim?(row: OutboxRow): void
  afterSend?(row: OutboxRow, result: PushResult): void
}

export interface DrainResult {
  sent: number
  /** Failed, to be retried later. */
  failed: number
  dead: number
  /** Claimed but left for a later claim (an earlier row of its link failed, too little lease left, shutdown). */
  deferred: number
  /** With `waitForHeld`: rows another executor still held when the wait ended (0 otherwise). */
  held?: number
}

export interface DrainOptions {
  /**
   * A one-shot command's wait for due rows another executor holds (claimed, not marked yet): the
   * drain goes on claiming until each row held when it began is settled by its holder, or its
   * lease ran out (the holder died) and this drain pushed it, or `ms` passed.
   */
  waitForHeld?: { ms: number; onWaiting?: (rows: number) => void }
}

export interface PushExecutor {
  /** Pushes everything due now: claims batches until a claim comes back empty (and, with `waitForHeld`, waits as it says). */
  drain(signal: AbortSignal, opts?: DrainOptions): Promise<DrainResult>
  /** Drains, then (when the retention is due) prunes the ledger, then waits `pollMs` or until `notify`, until the signal aborts. */
  run(signal: AbortSignal): Promise<void>
  /** Wakes a waiting `run` at once (new rows were enqueued). */
  notify(): void
}

type Outcome = 'sent' | 'failed' | 'dead' | 'deferred'

/** The leases of one claimed batch: valid until `validUntil` unless a row is in `lost`. */
interface Hold {
  validUntil: number
  /** Rows still to be marked or released, renewed by the heartbeat. */
  readonly open: Set<number>
  readonly lost: Set<number>
  /** Aborts a row's requests when its lease is found lost. */
  readonly onLost: Map<number, () => void>
}

/** The part of the lease a row may start in, and the part after which its requests are aborted. */
const START_WITHIN = 0.5
/** How often a drain that waits for rows held elsewhere looks again. */
const HELD_STEP_MS = 250
const ABORT_AFTER = 0.75

export function createPushExecutor(opts: PushExecutorOptions): PushExecutor {
  const { outbox, mirror, owner, leaseMs } = opts
  const batch = opts.batch ?? 20
  const parallel = Math.max(1, opts.parallel ?? 4)
  const maxAttempts = opts.maxAttempts ?? 8
  const backoff = opts.backoff ?? DEFAULT_BACKOFF
  const pollMs = opts.pollMs ?? 5_000
  const heartbeatMs = opts.heartbeatMs ?? Math.max(50, Math.floor(leaseMs / 3))
  const now = opts.now ?? (() => new Date())
  const random = opts.random ?? Math.random
  const report = (err: unknown, ctx: { during: Bookkeeping; row?: OutboxRow }): void => safely(() => opts.onError?.(err, ctx))
  const retention = opts.retention
  let prunedAt = Number.NEGATIVE_INFINITY

  /** Deletes expired finished rows when a prune is due; a failure is reported and tried again next time. */
  async function pruneIfDue(): Promise<void> {
    if (!retention || now().getTime() - prunedAt < (retention.everyMs ?? 3_600_000)) return
    prunedAt = now().getTime()
    try {
      const deleted = await outbox.prune(retention.keepMs)
      safely(() => opts.onPruned?.(deleted))
    } catch (err) {
      report(err, { during: 'prune' })
    }
  }

  async function pushRow(row: OutboxRow, hold: Hold, signal: AbortSignal): Promise<Outcome> {
    const left = hold.validUntil - now().getTime()
    if (signal.aborted || hold.lost.has(row.id) || left < leaseMs * (1 - START_WITHIN)) return 'deferred'
    const rowSignal = withLeaseDeadline(signal, row.id, hold)
    let result: PushResult
    try {
      opts.hooks?.afterClaim?.(row)
      result = await performPush(row, opts.connectors(row.stream.connection), rowSignal.signal, opts.connectors)
      opts.hooks?.afterSend?.(row, result)
    } catch (err) {
      return fail(row, hold, err, rowSignal.signal.aborted)
    } finally {
      rowSignal.dispose()
    }
    // Mark sent first, then save the record read back. The mark commits the link's counterpart
    // and base, so when the pushed record reaches the change feed, reconcile already finds its
    // link and sees an echo; the other order would show a pushed record with no link yet (for a
    // crash's whole lease) that reconcile could take for a new one. A crash between the two
    // loses only the record's `push` attribution: the next poll reads the record, equal to the base.
    hold.open.delete(row.id)
    try {
      await outbox.markSent(row, owner, result)
    } catch (err) {
      // not sent as far as the store knows: the lease runs out and the row is pushed again
      // (a create finds its record by the marker, an update is repeated with the same values)
      report(err, { during: 'mark', row })
      return 'failed'
    }
    safely(() => opts.onPushed?.(row, result))
    if (result.record) {
      try {
        await mirror.applyPage(row.stream, { records: [result.record] }, { source: 'push', outboxId: row.id })
      } catch (err) {
        report(err, { during: 'mirror', row })
      }
    }
    return 'sent'
  }

  async function fail(row: OutboxRow, hold: Hold, err: unknown, interrupted: boolean): Promise<Outcome> {
    hold.open.delete(row.id)
    // cut short by shutdown or the lease's end: whether it reached the vendor is unknown, and the
    // next attempt looks before creating; the row is released for another executor at once
    const failure: PushFailure = interrupted
      ? { code: 'interrupted', message: `push interrupted before its answer was handled: ${errorMessage(err)}`, retryAt: now() }
      : classifyFailure(err, { attempts: row.attempts, maxAttempts, now: now(), backoff, random })
    try {
      await outbox.markFailed(row, owner, failure)
    } catch (markErr) {
      report(markErr, { during: 'mark', row })
    }
    safely(() => opts.onFailed?.(row, failure))
    return failure.retryAt === null ? 'dead' : 'failed'
  }

  /** One link's rows stay in the lane of its first row, so they run in id order even across connections. */
  function lanesOf(rows: readonly OutboxRow[]): OutboxRow[][] {
    const lanes = new Map<string, OutboxRow[]>()
    const laneOfLink = new Map<number, string>()
    for (const row of [...rows].sort((a, b) => a.id - b.id)) {
      const key = laneOfLink.get(row.linkId) ?? row.stream.connection
      laneOfLink.set(row.linkId, key)
      const lane = lanes.get(key)
      if (lane) lane.push(row)
      else lanes.set(key, [row])
    }
    return [...lanes.values()]
  }

  async function runLane(lane: readonly OutboxRow[], hold: Hold, signal: AbortSignal, total: DrainResult): Promise<void> {
    const held = new Set<number>()
    for (const row of lane) {
      const outcome = held.has(row.linkId) ? 'deferred' : await pushRow(row, hold, signal)
      if (outcome !== 'sent') held.add(row.linkId)
      total[outcome]++
    }
  }

  /** Renews the batch's leases until `stop`; a row the store no longer lists as ours is lost. */
  function heartbeat(hold: Hold): () => void {
    let beating = false
    const timer = setInterval(() => {
      if (beating || hold.open.size === 0) return
      beating = true
      const ids = [...hold.open]
      // read before the renewal: the lease ends no earlier than this plus leaseMs
      const renewedAt = now().getTime()
      outbox
        .extend(ids, owner, leaseMs)
        .then(
          (kept) => {
            const still = new Set(kept)
            for (const id of ids) {
              if (still.has(id) || !hold.open.has(id)) continue
              hold.lost.add(id)
              hold.onLost.get(id)?.()
            }
            hold.validUntil = renewedAt + leaseMs
          },
          (err: unknown) => report(err, { during: 'heartbeat' }),
        )
        .finally(() => {
          beating = false
        })
    }, heartbeatMs)
    timer.unref?.()
    return () => clearInterval(timer)
  }

  /** A row's requests end when the run stops, when its lease is lost, or when too little of it is left. */
  function withLeaseDeadline(signal: AbortSignal, id: number, hold: Hold): { signal: AbortSignal; dispose: () => void } {
    const controller = new AbortController()
    let timer: ReturnType<typeof setTimeout> | undefined
    const abort = (): void => controller.abort(signal.reason)
    const check = (): void => {
      const ms = hold.validUntil - leaseMs * (1 - ABORT_AFTER) - now().getTime()
      if (ms <= 0) controller.abort(new Error('the lease is about to run out'))
      else {
        timer = setTimeout(check, ms)
        timer.unref?.()
      }
    }
    hold.onLost.set(id, () => controller.abort(new Error('the lease was taken over')))
    if (signal.aborted) abort()
    else signal.addEventListener('abort', abort, { once: true })
    check()
    return {
      signal: controller.signal,
      dispose: () => {
        clearTimeout(timer)
        hold.onLost.delete(id)
        signal.removeEventListener('abort', abort)
      },
    }
  }

  async function drain(signal: AbortSignal, o: DrainOptions = {}): Promise<DrainResult> {
    const total: DrainResult = { sent: 0, failed: 0, dead: 0, deferred: 0 }
    const wait = o.waitForHeld
    // taken before the first claim: a lease that runs out after it is claimed below, not missed
    const waitingFor = new Set(wait ? await outbox.heldElsewhere(owner) : [])
    await drainOnce(signal, total)
    if (!wait) return total
    const deadline = now().getTime() + wait.ms
    // only rows held when the drain began: a live holder's later claims are its own business
    const stillHeld = async () => (await outbox.heldElsewhere(owner)).filter((id) => waitingFor.has(id)).length
    const first = waitingFor.size > 0 ? await stillHeld() : 0
    if (first > 0) wait.onWaiting?.(first)
    const held = await askAgain(
      first,
      async () => {
        await drainOnce(signal, total)
        return stillHeld()
      },
      (n) => n > 0,
      { until: deadline, everyMs: HELD_STEP_MS, signal, now: () => now().getTime() },
    )
    // what a holder let go of, or left to run out, since the last claim is claimed here
    if (waitingFor.size > 0) await drainOnce(signal, total)
    return { ...total, held }
  }

  async function drainOnce(signal: AbortSignal, total: DrainResult): Promise<void> {
    while (!signal.aborted) {
      // read before the claim: the lease started no earlier, so the time left is never overestimated
      const claimedAt = now().getTime()
      const rows = await outbox.claim({ owner, leaseMs, limit: batch })
      if (rows.length === 0) break
      const hold: Hold = { validUntil: claimedAt + leaseMs, open: new Set(rows.map((r) => r.id)), lost: new Set(), onLost: new Map() }
      const stopBeating = heartbeat(hold)
      try {
        await eachLimited(lanesOf(rows), parallel, (lane) => runLane(lane, hold, signal, total))
      } finally {
        stopBeating()
        // what was claimed but never started goes back at once, for this or another executor
        const unstarted = [...hold.open].filter((id) => !hold.lost.has(id))
        if (unstarted.length > 0) await outbox.release(unstarted, owner).catch((err: unknown) => report(err, { during: 'release' }))
      }
    }
  }

  const wakeup = createWakeup()
  return {
    drain,
    async run(signal) {
      while (!signal.aborted) {
        // rows enqueued from here on are either seen by this drain or wake the next wait
        wakeup.begin()
        try {
          await drain(signal)
        } catch (err) {
          report(err, { during: 'drain' })
        }
        await pruneIfDue()
        await wakeup.wait(pollMs, signal)
      }
    },
    notify: () => wakeup.notify(),
  }
}

async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** A caller's callback that throws must not break the push it reports on. */
function safely(fn: () => void): void {
  try {
    fn()
  } catch {
    // the callback's own fault; the push's outcome stands
  }
}
