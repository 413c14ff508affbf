import type { Registry } from 'prom-client'
import type { Logger } from '../logger.js'

/** What the admin server and its routes receive; routes import it from here, never from server.ts. */
export interface AdminDeps {
  adminToken: string
  registry: Registry
  logger: Logger
  /** Ready when the database answers and every migration is applied. */
  ready: () => Promise<Readiness>
}

export interface Readiness {
  ready: boolean
  /** Why not, for the probe's body (never driver text). */
  reason?: string
}
