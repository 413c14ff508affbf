import PQueue from 'p-queue'

/**
 * One rate budget per connection, shared by every request of it (reads, writes, retries):
 * a p-queue with an interval cap, writes first by priority, and a connection-wide pause
 * when the server says `Retry-After`, so no request leaves before the server allows it.
 */
export interface RateBudget {
  schedule<T>(fn: () => Promise<T>, opts: { priority: 'read' | 'write'; signal?: AbortSignal | undefined }): Promise<T>
  /** Hold every queued request until `ms` from now. */
  pauseFor(ms: number): void
  /** Requests the budget still allows in the current minute; null when unlimited. */
  left(): number | null
  /** Requests allowed a minute; null when unlimited. */
  readonly perMinute: number | null
  clear(): void
}

export interface BudgetOptions {
  perMinute?: number | undefined
  concurrency?: number | undefined
  now?: () => number
}

export function createRateBudget(opts: BudgetOptions): RateBudget {
  const now = opts.now ?? Date.now
  const perMinute = opts.perMinute && opts.perMinute > 0 ? opts.perMinute : undefined
  const queue = new PQueue({
    concurrency: opts.concurrency ?? 4,
    // strict: a sliding window, as the vendors count (Elean: 60 in any 60 s), not fixed
    // minutes; one second of margin so that latency never lands a request at the edge
    ...(perMinute ? { intervalCap: perMinute, interval: 61_000, strict: true } : {}),
  })
  const started: number[] = []
  let resumeAt = 0
  let timer: NodeJS.Timeout | undefined

  return {
    perMinute: perMinute ?? null,
    async schedule(fn, { priority, signal }) {
      return queue.add(
        async () => {
          // a pause that began, or was extended, after this task was dequeued still applies
          for (let wait = resumeAt - now(); wait > 0; wait = resumeAt - now()) await new Promise((r) => setTimeout(r, wait))
          started.push(now())
          while (started.length && (started[0] as number) < now() - 60_000) started.shift()
          return fn()
        },
        { priority: priority === 'write' ? 1 : 0, ...(signal ? { signal } : {}) },
      ) as Promise<Awaited<ReturnType<typeof fn>>>
    },
    pauseFor(ms) {
      const until = now() + ms
      if (until <= resumeAt) return
      resumeAt = until
      queue.pause()
      clearTimeout(timer)
      timer = setTimeout(() => queue.start(), ms)
      timer.unref()
    },
    left() {
      if (!perMinute) return null
      while (started.length && (started[0] as number) < now() - 60_000) started.shift()
      return Math.max(0, perMinute - started.length)
    },
    clear() {
      clearTimeout(timer)
      queue.clear()
    },
  }
}
