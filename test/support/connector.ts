import type { ConnectionConfig } from '../../src/connectors/registry.js'
import { createConnector } from '../../src/connectors/index.js'
import { runStream } from '../../src/engine/poll.js'
import type { Connector, MirrorStore } from '../../src/engine/ports.js'
import { type CapturedLogs, captureLogs } from './logs.js'

/** A connection's connector, built as the app builds it but with retries short enough for a test, and the logs it wrote. */
export interface TestConnection {
  connector: Connector
  logs: CapturedLogs
  connection: string
}

export function testConnection(connection: string, config: ConnectionConfig): TestConnection {
  const logs = captureLogs()
  const connector = createConnector(connection, config, { logger: logs.logger, redactor: logs.redactor, retry: { attempts: 3, baseMs: 10, maxMs: 50 } })
  return { connector, logs, connection }
}

/** One incremental run of a stream of the connection into the mirror, without lookback. */
export const runOnce = (mirror: MirrorStore, s: TestConnection, stream: string) =>
  runStream(mirror, {
    stream: { connection: s.connection, stream },
    connector: s.connector,
    mode: 'incremental',
    signal: AbortSignal.timeout(30_000),
    lookbackMs: 0,
    maxDeleteFraction: 0.5,
  })
