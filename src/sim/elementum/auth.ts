import { randomBytes } from 'node:crypto'
import { basicCredentials, bearerToken, parseJsonBody, SimHttpError, type SimClock, type SimRequest, type SimRoute } from '../common/index.js'

/**
 * OAuth2 client credentials at `POST /oauth/token` (on the host, not under /v1). Both
 * documented request styles: form body + HTTP Basic (current docs), and a JSON body
 * `{grant_type, client_id, client_secret}` (older docs). Token lifetime runs on the
 * simulated clock so tests can expire tokens with `POST /_sim/clock`. The client may be denied
 * writes on a record type (`recordType/alias`), as an admin would restrict it: the API then
 * answers 403 to a create, update or child write there, and reads still work.
 */

export interface AuthOptions {
  clock: SimClock
  clientId: string
  clientSecret: string
  tokenTtlSeconds: number
}

export interface ElementumAuth {
  tokenRoute: SimRoute
  /** Throws a 401 unless the request carries a valid, unexpired bearer token. */
  verify(req: SimRequest): void
  /** Makes every issued token invalid (control surface). */
  revokeAll(): void
  /** Every access token issued so far, expired and revoked ones included (tests scan for them). */
  issued(): readonly string[]
  /** Allows or denies the client writes on a record type (control surface). */
  setWrite(recordType: string, alias: string, allowed: boolean): void
  /** Throws a 403 unless the client may write to the record type. */
  verifyWrite(recordType: string, alias: string): void
}

function tokenParams(req: SimRequest): Record<string, unknown> {
  const type = String(req.headers['content-type'] ?? '').toLowerCase()
  if (type.startsWith('application/json')) {
    const body = parseJsonBody(req)
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new SimHttpError(400, 'Token request must be a JSON object')
    return body as Record<string, unknown>
  }
  return Object.fromEntries(new URLSearchParams(req.body.toString('utf8')))
}

export function createElementumAuth(opts: AuthOptions): ElementumAuth {
  const tokens = new Map<string, number>()
  const issued: string[] = []
  const readOnly = new Set<string>()
  const unauthorized = (message: string): SimHttpError => new SimHttpError(401, message, { 'www-authenticate': 'Bearer error="invalid_token"' })

  const tokenRoute: SimRoute = {
    method: 'POST',
    pattern: '/oauth/token',
    handler: (req) => {
      const params = tokenParams(req)
      if (params.grant_type === undefined || params.grant_type === '') throw new SimHttpError(400, 'grant_type is required')
      if (params.grant_type !== 'client_credentials') throw new SimHttpError(400, `Unsupported grant_type "${String(params.grant_type)}"`)
      const basic = basicCredentials(req)
      const clientId = basic ? basic.user : params.client_id
      const clientSecret = basic ? basic.password : params.client_secret
      if (clientId !== opts.clientId || clientSecret !== opts.clientSecret)
        throw new SimHttpError(401, 'Invalid client credentials', { 'www-authenticate': 'Basic realm="elementum"' })
      const now = opts.clock.now()
      for (const [t, exp] of tokens) if (exp <= now) tokens.delete(t)
      const accessToken = randomBytes(24).toString('base64url')
      tokens.set(accessToken, now + opts.tokenTtlSeconds * 1000)
      issued.push(accessToken)
      return { status: 200, body: { access_token: accessToken, token_type: 'Bearer', expires_in: opts.tokenTtlSeconds } }
    },
  }

  return {
    tokenRoute,
    verify: (req) => {
      const token = bearerToken(req)
      if (token === undefined) throw unauthorized('Missing bearer token')
      const expiresAt = tokens.get(token)
      if (expiresAt === undefined) throw unauthorized('Invalid access token')
      if (expiresAt <= opts.clock.now()) throw unauthorized('Access token expired')
    },
    revokeAll: () => tokens.clear(),
    issued: () => issued,
    setWrite: (recordType, alias, allowed) => void (allowed ? readOnly.delete(`${recordType}/${alias}`) : readOnly.add(`${recordType}/${alias}`)),
    verifyWrite: (recordType, alias) => {
      if (readOnly.has(`${recordType}/${alias}`))
        throw new SimHttpError(403, `Client ${opts.clientId} does not have write permission on ${recordType}/${alias}`)
    },
  }
}
