/**
 * The pause of a polling loop between passes, cut short by `notify` (work arrived) or by the
 * loop's signal. A notify during a pass makes the next wait return at once, so nothing that
 * arrives while the loop works waits a full interval.
 */
export interface Wakeup {
  /** Call as each pass begins: what arrives from here on is seen by the pass or ends the next wait. */
  begin(): void
  wait(ms: number, signal: AbortSignal): Promise<void>
  notify(): void
}

export function createWakeup(): Wakeup {
  let pending = false
  const wakers = new Set<() => void>()
  return {
    begin() {
      pending = false
    },
    wait(ms, signal) {
      if (pending || signal.aborted) return Promise.resolve()
      return new Promise((resolve) => {
        const done = (): void => {
          clearTimeout(timer)
          signal.removeEventListener('abort', done)
          wakers.delete(done)
          resolve()
        }
        const timer = setTimeout(done, ms)
        signal.addEventListener('abort', done, { once: true })
        wakers.add(done)
      })
    },
    notify() {
      pending = true
      for (const wake of [...wakers]) wake()
    },
  }
}
