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
    this.retryable = RETRYABLE_STATUS.has(status)
  }
}

export const RETRYABLE_STATUS = new Set([429, 502, 503, 504])

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
