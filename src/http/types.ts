/** The connection settings the HTTP layer needs (a subset of a connection's config). */
export type AuthSettings =
  | { mode: 'none' }
  | { mode: 'basic'; username: string; password: string }
  | { mode: 'api-key'; in: 'header' | 'query'; name: string; value: string }
  | { mode: 'bearer'; token: string }
  | {
      mode: 'oauth2-client-credentials'
      tokenUrl?: string | undefined
      clientId: string
      clientSecret: string
      scope?: string | undefined
      clientAuth?: 'basic' | 'body' | undefined
    }
  | {
      mode: 'oauth2-refresh-token'
      tokenUrl: string
      clientId: string
      clientSecret?: string | undefined
      refreshToken: string
      scope?: string | undefined
    }

export interface HttpConnectionSettings {
  name: string
  baseUrl: string
  headers?: Record<string, string> | undefined
  auth: AuthSettings
  timeoutMs?: number | undefined
  rateLimit?: { perMinute?: number | undefined; concurrency?: number | undefined } | undefined
  /** The longest `Retry-After` waited out (default 300); a longer one fails the request at once with `rate_limited`. */
  maxRetryAfterSeconds?: number | undefined
}

/** One wait of the retry loop, reported so that a waiting `elsync sync` is never silent. */
export interface WaitEvent {
  connection: string
  /** Route label of the request, e.g. `GET /{project}/tasks`. */
  route: string
  /** `retry-after`: the server set the wait; `retry`: the client's backoff after a failure. */
  reason: 'retry-after' | 'retry'
  waitMs: number
  /** The attempt that just failed (1-based) and the policy's bound. */
  attempt: number
  of: number
  /** What failed: an errno such as `ECONNREFUSED`, `HTTP 500`, or an error code such as `bad_response`. */
  code: string
  /** The response status, when there was one. */
  status?: number
}

/** Where rotated refresh tokens are kept (encrypted) between runs. */
export interface TokenVault {
  load(connection: string): Promise<string | null>
  save(connection: string, refreshToken: string): Promise<void>
}
