/**
 * The only module that reads `process.env`. Everything else receives the typed settings (or,
 * for `${NAME}` interpolation in config files, the raw environment object) from its caller.
 */
import { z } from 'zod'
import { ConfigError, type ConfigIssue } from './errors.js'
import type { Env } from './interpolate.js'

export type { Env } from './interpolate.js'

export const DEFAULT_CONFIG_DIR = './mappings'
export const DEFAULT_DATA_DIR = './.elsync'
export const DEFAULT_ADMIN_PORT = 8787
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export const LOG_FORMATS = ['json', 'pretty'] as const

/** The process environment, for callers that need raw variables (config interpolation). */
export function processEnv(): Env {
  return process.env
}

/** Empty variables count as unset: `FOO= elsync run` should not mean "FOO is the empty string". */
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional())

const postgresUrl = z.string().refine((s) => /^postgres(ql)?:\/\/\S+$/.test(s), {
  // Never echo the value: it carries the database password.
  error: 'must be a postgres:// or postgresql:// connection URL',
})

const settingsSchema = z.object({
  DATABASE_URL: optional(postgresUrl),
  TEST_DATABASE_URL: optional(postgresUrl),
  ELSYNC_CONFIG_DIR: optional(z.string()),
  ELSYNC_ADMIN_TOKEN: optional(z.string().min(16, { error: 'must be at least 16 characters (it guards the admin API)' })),
  ELSYNC_ADMIN_PORT: optional(
    z.string().superRefine((s, ctx) => {
      if (/^\d{1,5}$/.test(s) && Number(s) <= 65_535) return
      ctx.addIssue({ code: 'custom', message: `must be a TCP port number between 0 and 65535, got ${JSON.stringify(s)}` })
    }),
  ),
  ELSYNC_ADMIN_HOST: optional(z.string()),
  LOG_LEVEL: optional(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` })),
  LOG_FORMAT: optional(z.enum(LOG_FORMATS, { error: `must be one of ${LOG_FORMATS.join(', ')} (unset: pretty on a terminal, json otherwise)` })),
  ELSYNC_SECRET_KEY: optional(z.string().min(16, { error: 'must be at least 16 characters (it encrypts refresh tokens at rest)' })),
  ELSYNC_DATA_DIR: optional(z.string()),
  ELSYNC_FAILPOINT: optional(z.string()),
  ELSYNC_LEASE_SECONDS: optional(
    z.string().refine((s) => /^\d{1,4}$/.test(s) && Number(s) >= 1 && Number(s) <= 3600, { error: 'must be a whole number of seconds from 1 to 3600' }),
  ),
  ELSYNC_STARTUP_SETTLE_MS: optional(
    z.string().refine((s) => /^\d{1,5}$/.test(s) && Number(s) <= 60_000, { error: 'must be a whole number of milliseconds from 0 to 60000' }),
  ),
})

export interface EnvSettings {
  /** Absent: an embedded Postgres under `<dataDir>/pg`. */
  readonly databaseUrl?: string
  readonly testDatabaseUrl?: string
  readonly configDir: string
  /** Absent: a random token is generated at start-up and the admin API binds to loopback. */
  readonly adminToken?: string
  readonly adminPort: number
  readonly adminHost?: string
  readonly logLevel: (typeof LOG_LEVELS)[number]
  /** Absent: pretty on a terminal, JSON otherwise. */
  readonly logFormat?: (typeof LOG_FORMATS)[number]
  /** Encrypts rotated OAuth2 refresh tokens at rest. */
  readonly secretKey?: string
  readonly dataDir: string
  /** Crash tests only: the named point (`push:after-send`, ...) at which the process kills itself with SIGKILL. */
  readonly failpoint?: string
  /**
   * How long a lease (of a stream, a mapping or a claimed outbox row) lives without a heartbeat;
   * heartbeats renew it every third of that. A replica that dies has its work taken over after it.
   * Absent: DEFAULT_LEASE_SECONDS.
   */
  readonly leaseMs?: number
  /**
   * How long a daemon waits, once it has announced itself, before its first pass, so that
   * replicas started together see each other and share the streams from the start. 0: none.
   * Absent: DEFAULT_STARTUP_SETTLE_MS.
   */
  readonly startupSettleMs?: number
}

export const DEFAULT_LEASE_SECONDS = 30
export const DEFAULT_STARTUP_SETTLE_MS = 2_000

/** Reads and validates the settings; throws a ConfigError naming every bad variable. */
export function readEnv(env: Env = process.env): EnvSettings {
  const parsed = settingsSchema.safeParse(env)
  if (!parsed.success) {
    const issues: ConfigIssue[] = parsed.error.issues.map((issue) => ({
      file: 'environment',
      path: issue.path.map(String).join('.'),
      message: issue.message,
    }))
    throw new ConfigError(issues)
  }
  const v = parsed.data
  return {
    ...(v.DATABASE_URL !== undefined && { databaseUrl: v.DATABASE_URL }),
    ...(v.TEST_DATABASE_URL !== undefined && { testDatabaseUrl: v.TEST_DATABASE_URL }),
    configDir: v.ELSYNC_CONFIG_DIR ?? DEFAULT_CONFIG_DIR,
    ...(v.ELSYNC_ADMIN_TOKEN !== undefined && { adminToken: v.ELSYNC_ADMIN_TOKEN }),
    adminPort: v.ELSYNC_ADMIN_PORT === undefined ? DEFAULT_ADMIN_PORT : Number(v.ELSYNC_ADMIN_PORT),
    ...(v.ELSYNC_ADMIN_HOST !== undefined && { adminHost: v.ELSYNC_ADMIN_HOST }),
    logLevel: v.LOG_LEVEL ?? 'info',
    ...(v.LOG_FORMAT !== undefined && { logFormat: v.LOG_FORMAT }),
    ...(v.ELSYNC_SECRET_KEY !== undefined && { secretKey: v.ELSYNC_SECRET_KEY }),
    dataDir: v.ELSYNC_DATA_DIR ?? DEFAULT_DATA_DIR,
    ...(v.ELSYNC_FAILPOINT !== undefined && { failpoint: v.ELSYNC_FAILPOINT }),
    leaseMs: Number(v.ELSYNC_LEASE_SECONDS ?? DEFAULT_LEASE_SECONDS) * 1000,
    startupSettleMs: Number(v.ELSYNC_STARTUP_SETTLE_MS ?? DEFAULT_STARTUP_SETTLE_MS),
  }
}

/** The config directory alone, which stays knowable when other variables are invalid. */
export function configDirFromEnv(env: Env = process.env): string {
  const dir = env['ELSYNC_CONFIG_DIR']
  return dir === undefined || dir === '' ? DEFAULT_CONFIG_DIR : dir
}

/** Secret values among the settings, for the logger's redaction list. */
export function envSecrets(settings: EnvSettings): string[] {
  const out: string[] = []
  if (settings.adminToken) out.push(settings.adminToken)
  if (settings.secretKey) out.push(settings.secretKey)
  for (const url of [settings.databaseUrl, settings.testDatabaseUrl]) {
    if (!url) continue
    try {
      const { password } = new URL(url)
      if (password) out.push(password, decodeURIComponent(password))
    } catch {
      // An unparsable URL is refused by postgres.js later; nothing to redact from it here.
    }
  }
  return out
}

/** Whether ELSYNC_SECRET_KEY is set, for config checks that depend on it. */
export function hasSecretKey(env: Env = process.env): boolean {
  const key = env['ELSYNC_SECRET_KEY']
  return key !== undefined && key !== ''
}
