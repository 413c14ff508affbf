/**
 * The one redaction mechanism: every known secret (config secrets, tokens obtained at
 * run time) is replaced with `[REDACTED]` wherever text leaves the process — log lines,
 * error messages, `sync_runs.error`, config error reports. Also matched in URL-encoded
 * and base64 form (Basic auth headers, query strings).
 */
export const REDACTED = '[REDACTED]'

/** Secrets shorter than this are not scrubbed from free text: "a" would shred every word. */
export const MIN_SECRET_LENGTH = 4

export interface Redactor {
  /**
   * `transient`: a value obtained at run time (an access token) — only the most recent
   * TRANSIENT_LIMIT are kept, so a long-running daemon's pattern does not grow forever.
   */
  add(secret: string | null | undefined, transient?: boolean): void
  redact(text: string): string
}

export const TRANSIENT_LIMIT = 32

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

export function createRedactor(initial: Iterable<string> = []): Redactor {
  const secrets = new Set<string>()
  const transient = new Set<string>()
  let pattern: RegExp | null = null
  const rebuild = () => {
    const variants = [...secrets, ...transient].flatMap((s) => [s, encodeURIComponent(s), Buffer.from(s).toString('base64')])
    // longest first, so a secret that contains another is replaced whole
    const unique = [...new Set(variants)].sort((a, b) => b.length - a.length)
    pattern = unique.length ? new RegExp(unique.map(escapeRegExp).join('|'), 'g') : null
  }
  const add = (s: string | null | undefined, isTransient = false) => {
    if (!s || s.length < MIN_SECRET_LENGTH || secrets.has(s) || transient.has(s)) return
    if (isTransient) {
      transient.add(s)
      if (transient.size > TRANSIENT_LIMIT) transient.delete(transient.values().next().value as string)
    } else secrets.add(s)
    rebuild()
  }
  for (const s of initial) add(s)
  return {
    add,
    redact: (text) => (pattern ? text.replace(pattern, REDACTED) : text),
  }
}
