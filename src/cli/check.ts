/**
 * `elsync check` — validate the environment and the config directory, then (once wired) test
 * every connection. Exit status: 0 ok, 1 a connection failed, 2 invalid configuration or
 * usage. Never touches the database.
 */
import { configDirFromEnv, processEnv, type Env } from '../config/env.js'
import { plural } from '../text.js'
import { parseCommandArgs } from './args.js'
import type { ConnectionTestResult, TestConnections } from './connection-tests.js'
import { configInvalidText, type Validated, validateConfig } from './validate.js'

export type { ConnectionTestResult, TestConnections } from './connection-tests.js'

export interface CheckOutput {
  readonly stdout: { write(text: string): unknown }
  readonly stderr: { write(text: string): unknown }
}

export interface RunCheckOptions {
  readonly configDir: string
  readonly env: Env
  readonly out: CheckOutput
  /** Absent: validation only. */
  readonly testConnections?: TestConnections
}

export async function runCheck(options: RunCheckOptions): Promise<number> {
  const { configDir, env, out } = options
  let validated: Validated
  try {
    validated = await validateConfig(configDir, env)
  } catch (err) {
    out.stderr.write(`elsync check: cannot load ${configDir}: ${err instanceof Error ? err.message : String(err)}\n`)
    return 1
  }
  if (!validated.ok) {
    out.stderr.write(`${configInvalidText(validated.issues, configDir)}\n`)
    return 2
  }
  const { config } = validated

  out.stdout.write(`config ok: ${plural(Object.keys(config.connections).length, 'connection')}, ${plural(config.mappings.length, 'mapping')}\n`)
  if (!options.testConnections) return 0

  let results: readonly ConnectionTestResult[]
  try {
    results = await options.testConnections(config)
  } catch (err) {
    out.stderr.write(`connection tests failed to run: ${err instanceof Error ? err.message : String(err)}\n`)
    return 1
  }
  for (const r of results) {
    const line = `${r.ok ? 'ok' : 'failed'} ${r.connection}${r.message ? `: ${r.message}` : ''}\n`
    ;(r.ok ? out.stdout : out.stderr).write(line)
  }
  return results.every((r) => r.ok) ? 0 : 1
}

const USAGE = `usage: elsync check [--config-dir <dir>]

Validates the environment and the config directory (default $ELSYNC_CONFIG_DIR or ./mappings).
Exit status: 0 ok, 1 a connection failed, 2 invalid configuration or usage.
`

export async function main(argv: readonly string[]): Promise<number> {
  const values = parseCommandArgs('check', argv, { 'config-dir': { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } }, USAGE)
  if (!values) return 2
  if (values.help) {
    process.stdout.write(USAGE)
    return 0
  }
  const env = processEnv()
  const { testConnections } = await import('./connection-tests.js')
  return runCheck({ configDir: values['config-dir'] ?? configDirFromEnv(env), env, out: process, testConnections })
}
