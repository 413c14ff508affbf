import pino, { type Logger } from 'pino'

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

/**
 * Replaces every occurrence of a known secret (config secrets, tokens obtained at run
 * time) with `[REDACTED]`. Shared by the logger, error messages and `sync_runs.error`.
 */
export interface Redactor {
  add(secret: string | null | undefined): void
  redact(text: string): string
}

export function createRedactor(initial: readonly string[] = []): Redactor {
  // short values (like "a") would shred ordinary text; real secrets are longer
  const secrets = new Set<string>()
  let pattern: RegExp | null = null
  const rebuild = () => {
    const list = [...secrets].sort((a, b) => b.length - a.length)
    const variants = list.flatMap((s) => [s, encodeURIComponent(s), Buffer.from(s).toString('base64')])
    pattern = list.length ? new RegExp([...new Set(variants)].map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g') : null
  }
  const add = (s: string | null | undefined) => {
    if (!s || s.length < 4 || secrets.has(s)) return
    secrets.add(s)
    rebuild()
  }
  initial.forEach(add)
  return {
    add,
    redact: (text) => (pattern ? text.replace(pattern, '[REDACTED]') : text),
  }
}

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
