import type { WaitEvent } from './types.js'

/** Waits shorter than this pass without a line: ordinary backoff is not news. */
export const WAIT_LINE_MIN_MS = 2_000

/**
 * The line `elsync sync` prints for a wait of the retry loop, or null when the wait is too
 * short to mention:
 *   `elean: rate limit, waiting 43 s (Retry-After)`
 *   `elean: attempt 3/6 failed: ECONNREFUSED, retrying in 4 s`
 */
export function waitLine(e: WaitEvent): string | null {
  if (e.waitMs <= WAIT_LINE_MIN_MS) return null
  const seconds = Math.round(e.waitMs / 1000)
  if (e.reason === 'retry-after') {
    const why = e.status === 429 ? 'rate limit' : e.code
    return `${e.connection}: ${why}, waiting ${seconds} s (Retry-After)`
  }
  return `${e.connection}: attempt ${e.attempt}/${e.of} failed: ${e.code}, retrying in ${seconds} s`
}
