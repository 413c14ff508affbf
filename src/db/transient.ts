import pRetry from 'p-retry'
import { SyncError } from '../engine/errors.js'

/**
 * Database errors that a retry of the same transaction can survive, declared once: the
 * connection dropped or was refused (failover, restart, pg_terminate_backend), the server
 * is starting or shutting down, a serialization failure or a deadlock. A page transaction
 * is atomic, so running it again after one of these is safe.
 */
const TRANSIENT_CODES = new Set([
  // postgres.js and Node socket errors
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  'CONNECT_TIMEOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  // SQLSTATEs
  '08000', // connection_exception
  '08003', // connection_does_not_exist
  '08006', // connection_failure
  '08001', // sqlclient_unable_to_establish_sqlconnection
  '57P01', // admin_shutdown (pg_terminate_backend)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up)
  '53300', // too_many_connections
  '40001', // serialization_failure
  '40P01', // deadlock_detected
])

/**
 * Unique keys that two writers of one record can race for, like a serialization failure: a poll
 * and a push both writing a record that is new to the mirror (a record the push just created
 * arrives in a poll's page) each read no stored row and plan its first history version; the one
 * that commits second hits the key. Its transaction rolled back whole, and run again it plans
 * against the row the other wrote.
 */
const RACED_KEYS = new Set(['record_changes_record_version'])

export function isTransientDbError(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, constraint_name: constraint } = e as { code?: unknown; constraint_name?: unknown }
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true
    if (code === '23505' && typeof constraint === 'string' && RACED_KEYS.has(constraint)) return true
  }
  return false
}

/** The database stayed away longer than the retry bound. */
export class DatabaseUnavailableError extends SyncError {
  override readonly code = 'database_unavailable'
  override readonly retryable = true
}

export interface DbRetryOptions {
  /** Give up after this long (default 30 s). */
  maxMs?: number
  /** Called before each retry (a log line). */
  onRetry?: (err: unknown, attempt: number, delayHintMs: number) => void
  signal?: AbortSignal
  what?: string
}

/** Runs `fn` (a whole transaction) again after a transient database error, with backoff, up to a bound. */
export async function withDbRetry<T>(fn: () => Promise<T>, opts: DbRetryOptions = {}): Promise<T> {
  const maxMs = opts.maxMs ?? 30_000
  try {
    return await pRetry(fn, {
      retries: 1_000,
      minTimeout: 100,
      maxTimeout: 5_000,
      factor: 2,
      randomize: true,
      maxRetryTime: maxMs,
      ...(opts.signal ? { signal: opts.signal } : {}),
      shouldRetry: ({ error }) => isTransientDbError(error),
      onFailedAttempt: ({ error, attemptNumber }) => {
        if (isTransientDbError(error)) opts.onRetry?.(error, attemptNumber, Math.min(5_000, 100 * 2 ** (attemptNumber - 1)))
      },
    })
  } catch (err) {
    if (!isTransientDbError(err)) throw err
    const detail = err instanceof Error ? err.message : String(err)
    throw new DatabaseUnavailableError(
      `${opts.what ?? 'a database operation'} failed: the database stayed unreachable for ${Math.round(maxMs / 1000)} s (${detail})`,
      {
        cause: err,
      },
    )
  }
}
