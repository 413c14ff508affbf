import { SyncError } from '../engine/errors.js'

/** A response with an error status. `requestId` is the vendor's, when it sent one. */
export class HttpStatusError extends SyncError {
  override readonly code: string
  override readonly retryable: boolean
  constructor(
    readonly status: number,
    message: string,
    readonly requestId: string | undefined,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message)
    this.code =
      status === 401
        ? 'unauthorized'
        : status === 403
          ? 'forbidden'
          : status === 404
            ? 'not_found'
            : status === 413
              ? 'payload_too_large'
              : status === 429
                ? 'rate_limited'
                : status >= 500
                  ? 'server_error'
                  : 'bad_request'
    this.retryable = isRetryableStatus(status)
  }
}

/**
 * Worth asking again: 429, and every 5xx but the permanent ones (501 Not Implemented, 505
 * HTTP Version Not Supported). Elementum documents 500 as "Try again later". Whether a
 * request is *safe* to repeat is the client's call (a POST that may have been processed is not).
 */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599 && status !== 501 && status !== 505)
}

/**
 * The server asked the connection to wait longer than `maxRetryAfterSeconds` allows: the
 * request fails at once (and so does every request of the connection until then) instead
 * of freezing the run. Not retryable in this run; `retryAt` is when the API accepts requests again.
 */
export class RateLimitedError extends SyncError {
  override readonly code = 'rate_limited'
  override readonly retryable = false
  constructor(
    message: string,
    readonly retryAt: Date,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** A 200 whose body is not what the API promises (HTML page, malformed or truncated JSON). */
export class BadResponseError extends SyncError {
  override readonly code = 'bad_response'
  override readonly retryable = true
}

/** The request never completed: refused, reset, timed out, body cut short. */
export class NetworkError extends SyncError {
  override readonly code: string
  override readonly retryable = true
  constructor(
    message: string,
    readonly phase: 'connect' | 'transfer' | 'timeout',
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.code = phase === 'timeout' ? 'timeout' : 'network_error'
  }
}

export class AuthError extends SyncError {
  override readonly code = 'auth_failed'
}

/**
 * Whether a failure concerns the whole connection rather than the one request: refused
 * credentials, a rate limit the retries did not outlast, a host that cannot be reached.
 * A caller that isolates per-item failures (one record's comments) lets these through,
 * since every following request would fail the same way.
 */
export function isConnectionWide(err: unknown): boolean {
  if (err instanceof NetworkError) return err.phase === 'connect'
  const code = err instanceof SyncError ? err.code : undefined
  return code === 'unauthorized' || code === 'auth_failed' || code === 'rate_limited'
}
