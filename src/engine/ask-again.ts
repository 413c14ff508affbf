import { setTimeout as sleep } from 'node:timers/promises'

export interface AskAgainOptions {
  /** Until when (epoch ms by `now`) to ask again. */
  until: number
  /** How long to wait between two questions. */
  everyMs: number
  signal: AbortSignal
  now?: () => number
}

/**
 * Asks `ask` again every `everyMs` while `again(answer)` holds, from a `first` answer, until
 * `until` or the signal aborts; returns the last answer. For waits on work another process
 * holds (a lease, outbox rows), where nothing wakes the waiter when it is let go.
 */
export async function askAgain<T>(first: T, ask: () => Promise<T>, again: (answer: T) => boolean, opts: AskAgainOptions): Promise<T> {
  const now = opts.now ?? Date.now
  let answer = first
  while (again(answer) && now() < opts.until && !opts.signal.aborted) {
    await sleep(Math.min(opts.everyMs, Math.max(1, opts.until - now())), undefined, { signal: opts.signal }).catch(() => {})
    answer = await ask()
  }
  return answer
}
