/**
 * `elsync check`'s connection tests: authenticate and call each connection's health
 * check, in parallel, each bounded by its timeout. Touches no database.
 */
import type { Config } from '../config/schema.js'
import { createConnector } from '../connectors/index.js'
import { toSyncError } from '../engine/errors.js'
import { createLogger, createRedactor } from '../logger.js'
import { collectSecrets } from '../config/secrets.js'

export interface ConnectionTestResult {
  readonly connection: string
  readonly ok: boolean
  /** Why it failed (or a detail such as the health-check status); never a secret. */
  readonly message?: string
}

/** Tests auth and the health check of every connection (`runCheck` takes it as an option so that tests can fake it). */
export type TestConnections = (config: Config) => Promise<readonly ConnectionTestResult[]>

export async function testConnections(config: Config): Promise<ConnectionTestResult[]> {
  const redactor = createRedactor(collectSecrets(config))
  const logger = createLogger({ level: 'silent', redactor })
  return Promise.all(
    Object.entries(config.connections).map(async ([name, conn]): Promise<ConnectionTestResult> => {
      const started = Date.now()
      if (conn.auth.mode === 'oauth2-refresh-token') {
        // redeeming the refresh token here would rotate it outside the vault the daemon uses
        return { connection: name, ok: true, message: 'not tested: oauth2-refresh-token (a test would spend the rotating refresh token); elsync sync tests it' }
      }
      try {
        const connector = createConnector(name, conn, { logger, redactor, retry: { attempts: 2 } })
        await connector.check(AbortSignal.timeout(conn.timeoutMs))
        return { connection: name, ok: true, message: `${conn.kind} answered in ${Date.now() - started} ms` }
      } catch (err) {
        const e = toSyncError(err)
        return { connection: name, ok: false, message: redactor.redact(`${e.code}: ${e.message}`) }
      }
    }),
  )
}
