import pino, { type Logger } from 'pino'
import type { Redactor } from './redact.js'

export { createRedactor, type Redactor } from './redact.js'

export type { Logger }

/** Header and field names whose values are never logged, wherever they appear. */
const REDACT_PATHS = [
  '*.authorization',
  '*.Authorization',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  '*.password',
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.refreshToken',
  '*.refresh_token',
  '*.clientSecret',
  '*.client_secret',
  '*.apiKey',
  '*.secret',
]

export interface LoggerOptions {
  level?: string
  redactor?: Redactor
  /** Destination stream (tests capture it); default stdout. */
  destination?: pino.DestinationStream
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const redactor = opts.redactor
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service: 'elsync' },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      serializers: { err: pino.stdSerializers.err },
      // the last line of defence: scrub every known secret from the serialized line
      hooks: redactor ? { streamWrite: (line: string) => redactor.redact(line) } : {},
    },
    opts.destination ?? pino.destination({ dest: 1, sync: false }),
  )
}
