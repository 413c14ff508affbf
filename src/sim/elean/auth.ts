import type { SimClock } from '../common/clock.js'
import type { Prng } from '../common/prng.js'
import { bearerToken, SimHttpError, type SimRequest } from '../common/server.js'

/**
 * Elean API keys (`el_` + 40 hex): scopes, an optional project restriction, an
 * optional expiry on the simulated clock, and a per-key rate limit over a sliding
 * 60-second window of the simulated clock.
 */

export type Scope = 'task:read' | 'task:create' | 'task:update'
export const SCOPES: readonly Scope[] = ['task:read', 'task:create', 'task:update']

export interface KeySpec {
  /** The key itself; generated from the simulator's PRNG when absent. */
  key?: string
  /** Shown as `authorName` of comments the key adds. Default `API`. */
  name?: string
  /** Default: all three scopes. */
  scopes?: readonly Scope[]
  /** Restricts the key to one project slug. */
  project?: string
  /** Absolute expiry, epoch ms or ISO string, on the simulated clock. */
  expiresAt?: number | string
  /** Expiry relative to the simulated clock's now when the key is added. */
  expiresInMs?: number
}

export interface ApiKey {
  key: string
  name: string
  scopes: ReadonlySet<Scope>
  project: string | undefined
  expiresAt: number | undefined
}

export interface Keyring {
  add(spec?: KeySpec): string
  /** The key of a request allowed `scope` on `req.params.project`, or a 401/403/429. */
  authorize(req: SimRequest, scope: Scope): ApiKey
}

const KEY_FORMAT = /^el_[0-9a-f]{40}$/
const WINDOW_MS = 60_000

export function isScope(v: unknown): v is Scope {
  return SCOPES.includes(v as Scope)
}

export function createKeyring(opts: { clock: SimClock; prng: Prng; perMinute: number }): Keyring {
  const { clock, prng } = opts
  const limited = Number.isFinite(opts.perMinute) && opts.perMinute > 0
  const keys = new Map<string, ApiKey>()
  const hits = new Map<string, number[]>()

  const add = (spec: KeySpec = {}): string => {
    const key = spec.key ?? `el_${prng.hex(40)}`
    if (!KEY_FORMAT.test(key)) throw new Error('an Elean API key is el_ followed by 40 lower-case hex digits')
    const scopes = spec.scopes ?? SCOPES
    for (const s of scopes) if (!isScope(s)) throw new Error(`unknown scope ${String(s)}`)
    let expiresAt: number | undefined
    if (spec.expiresInMs !== undefined) expiresAt = clock.now() + spec.expiresInMs
    else if (typeof spec.expiresAt === 'string') expiresAt = Date.parse(spec.expiresAt)
    else expiresAt = spec.expiresAt
    keys.set(key, { key, name: spec.name ?? 'API', scopes: new Set(scopes), project: spec.project, expiresAt })
    return key
  }

  // Counts a request against the key; rejected requests do not take a slot.
  const takeSlot = (key: string): void => {
    if (!limited) return
    const now = clock.now()
    let log = hits.get(key)
    if (!log) hits.set(key, (log = []))
    while (log.length > 0 && (log[0] as number) <= now - WINDOW_MS) log.shift()
    if (log.length >= opts.perMinute) {
      const freesAt = (log[0] as number) + WINDOW_MS
      const retryAfter = Math.max(1, Math.ceil((freesAt - now) / 1000))
      throw new SimHttpError(429, `Rate limit exceeded: ${opts.perMinute} requests per minute`, {
        'Retry-After': String(retryAfter),
      })
    }
    log.push(now)
  }

  const authorize = (req: SimRequest, scope: Scope): ApiKey => {
    const header = req.headers['x-api-key']
    const token = bearerToken(req) ?? (typeof header === 'string' && header !== '' ? header : undefined)
    if (token === undefined) throw new SimHttpError(401, 'Missing API key')
    const key = keys.get(token.trim())
    if (!key) throw new SimHttpError(401, 'Invalid API key')
    if (key.expiresAt !== undefined && clock.now() >= key.expiresAt) throw new SimHttpError(401, 'API key has expired')
    takeSlot(key.key)
    if (!key.scopes.has(scope)) throw new SimHttpError(403, `Missing required scope: ${scope}`)
    const project = req.params.project
    if (key.project !== undefined && project !== undefined && project !== key.project)
      throw new SimHttpError(403, `API key has no access to project ${project}`)
    return key
  }

  return { add, authorize }
}
