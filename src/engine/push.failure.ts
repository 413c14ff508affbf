import { toSyncError } from './errors.js'
import type { PushFailure } from './write.types.js'

/**
 * What a failed push becomes: retried later (with exponential backoff and full jitter,
 * never sooner than the server's Retry-After) or parked `dead` for an admin. The engine
 * knows no HTTP library: it reads the error's `code`, `retryable`, `status` and the wait
 * the server asked for (`retryAfterMs`, or a `retryAt` date) from the error or its causes.
 */

export interface Backoff {
  baseMs: number
  maxMs: number
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 1_000, maxMs: 15 * 60_000 }

/**
 * Failures about the connection or the answer rather than the row, worth repeating though
 * not `retryable` by themselves: a write whose answer was lost (`unconfirmed`: the retry
 * looks the marker up before creating), a rate limit longer than the run waits (it names
 * when the API accepts requests again), and refused credentials, which an admin fixes
 * without touching the row.
 */
const TRANSIENT_CODES = new Set(['unconfirmed', 'rate_limited', 'unauthorized', 'auth_failed'])

/** Full jitter: uniform between 0 and the attempt's capped exponential delay. */
export function backoffMs(attempt: number, backoff: Backoff, random: () => number): number {
  const cap = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.floor(random() * cap)
}

interface Hints {
  status?: number
  retryAfterMs?: number
  retryAt?: Date
}

/** The status and the server's requested wait, from the error or the first cause that carries them (connectors wrap). */
function hintsOf(err: unknown): Hints {
  const hints: Hints = {}
  let e: unknown = err
  for (let depth = 0; depth < 5 && typeof e === 'object' && e !== null; depth++) {
    const o = e as { status?: unknown; retryAfterMs?: unknown; retryAt?: unknown; cause?: unknown }
    if (hints.status === undefined && typeof o.status === 'number') hints.status = o.status
    if (hints.retryAfterMs === undefined && typeof o.retryAfterMs === 'number' && o.retryAfterMs >= 0) hints.retryAfterMs = o.retryAfterMs
    if (hints.retryAt === undefined && o.retryAt instanceof Date && !Number.isNaN(o.retryAt.getTime())) hints.retryAt = o.retryAt
    e = o.cause
  }
  return hints
}

export interface FailureContext {
  /** The row's attempts, the failed one included. */
  attempts: number
  maxAttempts: number
  now: Date
  backoff: Backoff
  random: () => number
}

/** The failure to record: `retryAt` null parks the row as dead. The message is the error's own (the http layer has redacted it). */
export function classifyFailure(err: unknown, ctx: FailureContext): PushFailure {
  const e = toSyncError(err)
  const hints = hintsOf(err)
  const base = { code: e.code, message: e.message, ...(hints.status === undefined ? {} : { status: hints.status }) }
  if (!e.retryable && !TRANSIENT_CODES.has(e.code)) return { ...base, retryAt: null }
  if (ctx.attempts >= ctx.maxAttempts) return { ...base, message: `${e.message} (gave up after ${ctx.attempts} attempts)`, retryAt: null }
  const now = ctx.now.getTime()
  let at = now + backoffMs(ctx.attempts, ctx.backoff, ctx.random)
  if (hints.retryAfterMs !== undefined) at = Math.max(at, now + hints.retryAfterMs)
  if (hints.retryAt) at = Math.max(at, hints.retryAt.getTime())
  return { ...base, retryAt: new Date(at) }
}
