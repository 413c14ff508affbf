import type { Registry } from 'prom-client'
import type { Logger } from '../logger.js'

/** What the admin server and its routes receive; routes import it from here, never from server.ts. */
export interface AdminDeps {
  adminToken: string
  registry: Registry
  logger: Logger
  /** True when the database answers and every migration is applied. */
  ready: () => Promise<boolean>
}
