/**
 * The retry policy of every connection, declared once: bounded attempts, exponential
 * backoff with full jitter, and `Retry-After` (seconds or HTTP-date) as a floor.
 */
export interface RetryPolicy {
  attempts: number
  baseMs: number
  maxMs: number
}

// six attempts: five 503s in a row (a rolling restart) are survived, in about 15 s of backoff
export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseMs: 500, maxMs: 30_000 }

/** Milliseconds a `Retry-After` header asks us to wait, or undefined when absent/invalid. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value
  if (!v) return undefined
  const trimmed = v.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000)
  const at = Date.parse(trimmed)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** Delay before attempt `attempt` (1-based count of failures so far). */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1))
  return Math.round(ceiling / 2 + random() * (ceiling / 2))
}
