/**
 * Which config values are secrets: every value interpolated from the environment or a file
 * (except URLs), and the known secret fields of `auth` even when written literally. The
 * logger redacts them; the loader scrubs them from its own error messages.
 */
import { createRedactor } from '../redact.js'
import type { Config } from './schema.js'
import { SECRET_AUTH_FIELDS, type AuthMode } from './schema.auth.js'

const interpolatedSecrets = new WeakMap<Config, readonly string[]>()

/** Called by the loader: the values it substituted into `config`. */
export function rememberSecrets(config: Config, values: readonly string[]): void {
  interpolatedSecrets.set(config, values)
}

/** Secret values of one `auth` object, validated or raw (unknown modes yield nothing). */
export function authSecrets(auth: unknown): string[] {
  if (auth === null || typeof auth !== 'object') return []
  const mode = (auth as { mode?: unknown }).mode
  if (typeof mode !== 'string' || !Object.hasOwn(SECRET_AUTH_FIELDS, mode)) return []
  const out: string[] = []
  for (const field of SECRET_AUTH_FIELDS[mode as AuthMode]) {
    const value = (auth as Record<string, unknown>)[field]
    if (typeof value === 'string' && value !== '') out.push(value)
  }
  return out
}

/** Secrets in a parsed (not necessarily valid) `connections.yaml` document. */
export function rawConnectionSecrets(document: unknown): string[] {
  const connections = (document as { connections?: unknown } | null)?.connections
  if (connections === null || typeof connections !== 'object') return []
  return Object.values(connections).flatMap((c) => authSecrets((c as { auth?: unknown } | null)?.auth))
}

/** Every secret value of a loaded config, longest first, without duplicates. */
export function collectSecrets(config: Config): string[] {
  const all = new Set<string>(interpolatedSecrets.get(config) ?? [])
  for (const connection of Object.values(config.connections)) {
    for (const value of authSecrets(connection.auth)) all.add(value)
  }
  return sortForRedaction(all)
}

/** Longest first, so a secret that contains another is replaced whole. */
export function sortForRedaction(values: Iterable<string>): string[] {
  return [...new Set(values)].filter((v) => v !== '').sort((a, b) => b.length - a.length)
}

export { REDACTED } from '../redact.js'

/** Replaces every occurrence of every secret in `text` (the shared redactor). */
export function redact(text: string, secrets: readonly string[]): string {
  return createRedactor(secrets).redact(text)
}
