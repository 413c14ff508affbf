import type { HttpClient } from '../http/client.js'
import type { Logger } from '../logger.js'

/** What every connector factory (`create<Kind>(deps)`) receives. */
export interface ConnectorDeps<C> {
  /** The connection's name in connections.yaml. */
  name: string
  /** The connection's validated config (kind-specific). */
  config: C
  http: HttpClient
  logger: Logger
  now?: () => Date
}
