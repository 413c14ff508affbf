import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { SimClock } from '../common/clock.js'
import { basicCredentials, bearerToken, SimHttpError, type SimRequest, type SimResponse, type SimRoute } from '../common/server.js'

/**
 * The identity host: OAuth2 client credentials at `/connect/token`, tokens scoped to
 * Elements permissions and expiring on the simulated clock.
 */

export const PERMISSIONS = {
  customers: 'elements.customers.read.all',
  tenants: 'elements.tenants.read.all',
  services: 'elements.services.read.all',
  usersRead: 'elements.um.user.read.all',
  usersWrite: 'elements.um.user.readwrite.all',
} as const

export const KNOWN_SCOPES: readonly string[] = Object.values(PERMISSIONS)

/** The scope printed in the credentials: what a mirror of the four resources needs (read only), as in mappings/connections.yaml. */
export const DEFAULT_SCOPE = [PERMISSIONS.customers, PERMISSIONS.tenants, PERMISSIONS.services, PERMISSIONS.usersRead].join(' ')

interface Grant {
  scopes: ReadonlySet<string>
  expiresAt: number
}

export interface AvepointAuth {
  tokenRoute: SimRoute
  /** Throws 401 without a live token and 403 when the token holds none of `anyOf`. */
  authorize(req: SimRequest, anyOf: readonly string[]): void
}

export interface AvepointAuthOptions {
  clientId: string
  clientSecret: string
  tokenTtlSeconds: number
  clock: SimClock
}

const oauthError = (error: string, description: string): SimResponse => ({
  status: 400,
  body: { error, error_description: description },
  headers: { 'cache-control': 'no-store' },
})

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

export function createAvepointAuth(opts: AvepointAuthOptions): AvepointAuth {
  const grants = new Map<string, Grant>()

  const issue = (req: SimRequest): SimResponse => {
    const type = String(req.headers['content-type'] ?? '')
    if (!type.startsWith('application/x-www-form-urlencoded')) return oauthError('invalid_request', 'Expected an application/x-www-form-urlencoded body')
    const form = new URLSearchParams(req.body.toString('utf8'))
    const grantType = form.get('grant_type')
    if (grantType !== 'client_credentials') return oauthError('unsupported_grant_type', `grant_type ${grantType ?? '(missing)'} is not supported`)
    // client_secret_post and client_secret_basic are both accepted.
    const basic = basicCredentials(req)
    const clientId = form.get('client_id') ?? basic?.user ?? ''
    const clientSecret = form.get('client_secret') ?? basic?.password ?? ''
    if (!sameSecret(clientId, opts.clientId) || !sameSecret(clientSecret, opts.clientSecret))
      return oauthError('invalid_client', 'Unknown client or wrong secret')
    const requested = (form.get('scope') ?? '').split(' ').filter(Boolean)
    if (requested.length === 0) return oauthError('invalid_scope', 'scope is required')
    const unknown = requested.filter((s) => !KNOWN_SCOPES.includes(s))
    if (unknown.length > 0) return oauthError('invalid_scope', `Unknown scope: ${unknown.join(' ')}`)

    const now = opts.clock.now()
    for (const [token, grant] of grants) if (grant.expiresAt <= now) grants.delete(token)
    const accessToken = randomBytes(32).toString('base64url')
    grants.set(accessToken, { scopes: new Set(requested), expiresAt: now + opts.tokenTtlSeconds * 1000 })
    return {
      status: 200,
      body: { access_token: accessToken, token_type: 'Bearer', expires_in: opts.tokenTtlSeconds, scope: requested.join(' ') },
      headers: { 'cache-control': 'no-store' },
    }
  }

  return {
    tokenRoute: { method: 'POST', pattern: '/connect/token', handler: issue },
    authorize(req, anyOf) {
      const token = bearerToken(req)
      const challenge = { 'www-authenticate': 'Bearer error="invalid_token"' }
      if (token === undefined) throw new SimHttpError(401, 'Missing bearer token', { 'www-authenticate': 'Bearer' })
      const grant = grants.get(token)
      if (!grant) throw new SimHttpError(401, 'Invalid access token', challenge)
      if (grant.expiresAt <= opts.clock.now()) throw new SimHttpError(401, 'Access token has expired', challenge)
      if (!anyOf.some((s) => grant.scopes.has(s))) throw new SimHttpError(403, `Token lacks permission ${anyOf.join(' or ')}`)
    },
  }
}
