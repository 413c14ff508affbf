/**
 * What every command that uses the database shares: read the environment and the
 * config (invalid → exit 2 before the database is touched), build the redactor and
 * logger, open and migrate the database.
 */
import type { AppContext } from '../app.js'
import { processEnv, configDirFromEnv, envSecrets, type Env } from '../config/env.js'
import { collectSecrets } from '../config/secrets.js'
import { openDatabase, type OpenedDatabase } from '../db/open.js'
import { createLogger, createRedactor, type Redactor } from '../logger.js'
import { ExitError } from './errors.js'
import { configInvalidText, validateConfig } from './validate.js'

/** The loaded config's redactor, so that an unexpected error printed by runCommand is scrubbed too. */
let activeRedactor: Redactor | undefined

export async function loadContext(opts: { configDir?: string | undefined; extraEnv?: Env } = {}): Promise<AppContext> {
  const raw: Env = { ...processEnv(), ...opts.extraEnv }
  const dir = opts.configDir ?? configDirFromEnv(raw)
  const validated = await validateConfig(dir, raw)
  if (!validated.ok) throw new ExitError(2, configInvalidText(validated.issues, dir))
  const { env, config } = validated
  const redactor = createRedactor([...collectSecrets(config), ...envSecrets(env)])
  const logger = createLogger({ level: env.logLevel, format: env.logFormat, redactor })
  activeRedactor = redactor
  return { env, config, redactor, logger }
}

export async function openContextDatabase(ctx: AppContext, say: (line: string) => void): Promise<OpenedDatabase> {
  return openDatabase({ databaseUrl: ctx.env.databaseUrl, dataDir: ctx.env.dataDir, onProgress: say })
}

/** Runs a command body, turning ExitError and unexpected errors into an exit status. */
export async function runCommand(name: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body()
  } catch (err) {
    if (err instanceof ExitError) {
      process.stderr.write(`${err.message}\n`)
      return err.exitCode
    }
    const text = err instanceof Error ? err.message : String(err)
    process.stderr.write(`elsync ${name}: ${activeRedactor ? activeRedactor.redact(text) : text}\n`)
    return 1
  }
}
