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
}

/** Where rotated refresh tokens are kept (encrypted) between runs. */
export interface TokenVault {
  load(connection: string): Promise<string | null>
  save(connection: string, refreshToken: string): Promise<void>
}
