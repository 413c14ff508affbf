import pino, { type Logger } from 'pino'
import { prettyFactory } from 'pino-pretty'
import { SyncError } from './engine/errors.js'
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

/** `json`: one JSON object per line (for collectors); `pretty`: one readable line per entry (for people). */
export type LogFormat = 'json' | 'pretty'

export interface LoggerOptions {
  level?: string
  redactor?: Redactor
  /** Destination stream (tests capture it); default stdout. */
  destination?: pino.DestinationStream
  /** Absent: pretty on a terminal, JSON otherwise. */
  format?: LogFormat | undefined
  /** Whether the output is a terminal; default: stdout's, or false with a `destination`. */
  isTTY?: boolean
}

export function chooseLogFormat(format: LogFormat | undefined, isTTY: boolean): LogFormat {
  return format ?? (isTTY ? 'pretty' : 'json')
}

/**
 * An expected failure (a SyncError with a code of its own: 401, ECONNREFUSED, interrupted) is
 * logged as its code and message: its stack says nothing to anyone. An unexpected one keeps
 * its stack (`sync_error` is what toSyncError gives an error it could not classify).
 */
export function serializeErr(err: unknown): unknown {
  if (err instanceof SyncError && err.code !== 'sync_error') return { code: err.code, message: err.message }
  return err instanceof Error ? pino.stdSerializers.err(err) : err
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null

/** `[12:03:04] WARN: elean: stream read failed: unauthorized: GET … answered 401 {"stream":"web"}` */
function prettyLine(colorize: boolean): (jsonLine: string) => string {
  return prettyFactory({
    colorize,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,service,component',
    messageFormat: (log, messageKey) => {
      const component = typeof log.component === 'string' ? `${log.component}: ` : ''
      const err = log.err
      const why = typeof err === 'string' ? `: ${err}` : isRecord(err) ? `: ${String(err.code ?? err.type ?? 'error')}: ${String(err.message)}` : ''
      return `${component}${String(log[messageKey] ?? '')}${why}`
    },
    // the error is in the message already; only an unexpected error's stack follows, indented
    customPrettifiers: { err: (v) => (isRecord(v) && typeof v.stack === 'string' ? v.stack : (undefined as unknown as string)) },
  })
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const redactor = opts.redactor
  const out = opts.destination ?? pino.destination({ dest: 1, sync: false })
  const isTTY = opts.isTTY ?? (opts.destination === undefined && process.stdout.isTTY === true)
  const format = chooseLogFormat(opts.format, isTTY)
  let destination = out
  if (format === 'pretty') {
    const pretty = prettyLine(isTTY)
    destination = { write: (line: string) => out.write(pretty(line)) }
  }
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service: 'elsync' },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      serializers: { err: serializeErr },
      // the last line of defence: scrub every known secret from the serialized line (before it is prettified)
      hooks: redactor ? { streamWrite: (line: string) => redactor.redact(line) } : {},
    },
    destination,
  )
}
