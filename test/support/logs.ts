import { Writable } from 'node:stream'
import { createLogger, createRedactor, type Logger, type Redactor } from '../../src/logger.js'

/** A debug-level logger whose output is kept in memory, so tests can grep it for secrets. */
export interface CapturedLogs {
  logger: Logger
  redactor: Redactor
  lines: string[]
  text(): string
}

export function captureLogs(secrets: readonly string[] = []): CapturedLogs {
  const lines: string[] = []
  const redactor = createRedactor(secrets)
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk))
      cb()
    },
  })
  const logger = createLogger({ level: 'debug', redactor, destination })
  return { logger, redactor, lines, text: () => lines.join('') }
}
