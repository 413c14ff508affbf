/**
 * The validation every command starts with: the environment and the config directory,
 * all problems collected at once, and one wording for them whichever command found them.
 */
import { type Env, type EnvSettings, readEnv } from '../config/env.js'
import { ConfigError, type ConfigIssue, formatIssue } from '../config/errors.js'
import { loadConfig } from '../config/load.js'
import type { Config } from '../config/schema.js'
import { plural } from '../text.js'

export type Validated = { ok: true; env: EnvSettings; config: Config } | { ok: false; issues: readonly ConfigIssue[] }

/** Reads both, keeping the problems of one while checking the other; an unreadable directory throws. */
export async function validateConfig(configDir: string, raw: Env): Promise<Validated> {
  const issues: ConfigIssue[] = []
  const collect = (err: unknown) => {
    if (!(err instanceof ConfigError)) throw err
    issues.push(...err.issues)
    return undefined
  }
  let env: EnvSettings | undefined
  try {
    env = readEnv(raw)
  } catch (err) {
    collect(err)
  }
  const config = await loadConfig({ dir: configDir, env: raw }).catch(collect)
  return issues.length === 0 && env && config ? { ok: true, env, config } : { ok: false, issues }
}

/** One line per issue, then `config invalid: 2 errors in ./mappings` (no trailing newline). */
export function configInvalidText(issues: readonly ConfigIssue[], configDir: string): string {
  return [...issues.map(formatIssue), `config invalid: ${plural(issues.length, 'error')} in ${configDir}`].join('\n')
}
