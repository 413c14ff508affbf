import type { Got, Response } from 'got'
import { AuthError } from './errors.js'
import type { AuthSettings, TokenVault } from './types.js'
import type { Redactor } from '../logger.js'

/**
 * Access tokens for the OAuth2 modes: fetched once, cached until shortly before
 * `expires_in`, shared by concurrent requests (one fetch in flight), invalidated on 401.
 */
export interface TokenProvider {
  get(signal?: AbortSignal): Promise<string>
  /** Drops the cached token if it is still `token` (another request may have refreshed it). */
  invalidate(token: string): void
}

interface TokenResponse {
  access_token?: unknown
  expires_in?: unknown
  refresh_token?: unknown
}

export interface TokenDeps {
  got: Got
  connection: string
  tokenUrl: string
  redactor: Redactor
  vault?: TokenVault | undefined
  now?: () => number
  /** Called once per token request: status ('error' without a response), duration, Date header. */
  observe?: (status: string, ms: number, date: string | undefined) => void
}

function form(fields: Record<string, string | undefined>): string {
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) p.set(k, v)
  return p.toString()
}

async function fetchToken(
  auth: Extract<AuthSettings, { mode: `oauth2-${string}` }>,
  deps: TokenDeps,
  signal?: AbortSignal,
): Promise<{ token: string; expiresInSec: number }> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }
  let body: string
  if (auth.mode === 'oauth2-client-credentials') {
    const inBody = auth.clientAuth === 'body'
    if (!inBody) headers.authorization = `Basic ${Buffer.from(`${auth.clientId}:${auth.clientSecret}`).toString('base64')}`
    body = form({
      grant_type: 'client_credentials',
      scope: auth.scope,
      client_id: inBody ? auth.clientId : undefined,
      client_secret: inBody ? auth.clientSecret : undefined,
    })
  } else {
    const refresh = (await deps.vault?.load(deps.connection)) ?? auth.refreshToken
    deps.redactor.add(refresh, true)
    body = form({ grant_type: 'refresh_token', refresh_token: refresh, client_id: auth.clientId, client_secret: auth.clientSecret, scope: auth.scope })
  }
  let res: Response<string>
  const started = (deps.now ?? Date.now)()
  // a refresh grant may rotate the refresh token: never repeat one that may have been redeemed
  const retry = auth.mode === 'oauth2-refresh-token' ? { limit: 0 } : { limit: 2, methods: ['POST' as const] }
  try {
    res = await deps.got.post(deps.tokenUrl, { headers, body, throwHttpErrors: false, responseType: 'text', retry, ...(signal ? { signal } : {}) })
  } catch (err) {
    deps.observe?.('error', (deps.now ?? Date.now)() - started, undefined)
    throw new AuthError(`token request to ${deps.tokenUrl} failed: ${deps.redactor.redact(err instanceof Error ? err.message : String(err))}`)
  }
  deps.observe?.(String(res.statusCode), (deps.now ?? Date.now)() - started, res.headers.date)
  if (res.statusCode !== 200) {
    throw new AuthError(`token endpoint ${deps.tokenUrl} answered ${res.statusCode}: ${deps.redactor.redact(String(res.body).slice(0, 200))}`)
  }
  let parsed: TokenResponse
  try {
    parsed = JSON.parse(String(res.body)) as TokenResponse
  } catch {
    throw new AuthError(`token endpoint ${deps.tokenUrl} answered 200 without a JSON body`)
  }
  if (typeof parsed.access_token !== 'string' || parsed.access_token === '')
    throw new AuthError(`token endpoint ${deps.tokenUrl} answered without access_token`)
  deps.redactor.add(parsed.access_token, true)
  if (auth.mode === 'oauth2-refresh-token' && typeof parsed.refresh_token === 'string' && parsed.refresh_token) {
    deps.redactor.add(parsed.refresh_token, true)
    await deps.vault?.save(deps.connection, parsed.refresh_token)
  }
  const expires = Number(parsed.expires_in)
  return { token: parsed.access_token, expiresInSec: Number.isFinite(expires) && expires > 0 ? expires : 3600 }
}

export function createTokenProvider(auth: Extract<AuthSettings, { mode: `oauth2-${string}` }>, deps: TokenDeps): TokenProvider {
  const now = deps.now ?? Date.now
  let cached: { token: string; refreshAt: number } | undefined
  let inFlight: Promise<string> | undefined
  return {
    async get(signal) {
      if (cached && now() < cached.refreshAt) return cached.token
      inFlight ??= (async () => {
        try {
          const { token, expiresInSec } = await fetchToken(auth, deps, signal)
          // refresh early: a minute before expiry, or at 90% of a short lifetime
          const margin = Math.min(60_000, expiresInSec * 100)
          cached = { token, refreshAt: now() + expiresInSec * 1000 - margin }
          return token
        } finally {
          inFlight = undefined
        }
      })()
      return inFlight
    },
    invalidate(token) {
      if (cached?.token === token) cached = undefined
    },
  }
}
