import { isConnectionWide } from '../../http/errors.js'

/**
 * Child reads (one record's comments, attachments, related items) that fail after the
 * HTTP client's retries. One such failure must not sink the page of records: the caller
 * marks the record's children stale and goes on. A failure that concerns the whole
 * connection (auth, a rate limit not outlasted, an unreachable host) or an abort is
 * rethrown, since every following request would fail the same way.
 *
 * Past `MAX_CHILD_FAILURES` in one read the child routes are evidently down: each further
 * record would spend a whole retry budget (about 15 s) only to fail, so `open` tells the
 * caller to mark the remaining records stale without asking.
 */
export const MAX_CHILD_FAILURES = 3

export interface ChildFailures {
  /** True once the read has seen `MAX_CHILD_FAILURES` failures: stop asking. */
  readonly open: boolean
  /** Records a failed child read, or rethrows `err` when it must fail the page. */
  absorb(err: unknown, signal: AbortSignal): void
}

export function createChildFailures(): ChildFailures {
  let failures = 0
  return {
    get open() {
      return failures >= MAX_CHILD_FAILURES
    },
    absorb(err, signal) {
      if (signal.aborted || isConnectionWide(err)) throw err
      failures += 1
    },
  }
}
