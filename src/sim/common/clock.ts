/**
 * Simulated clock: real time plus an offset that tests move forward with
 * `POST /_sim/clock {advanceMs}`, so token expiry or presigned-URL expiry can be
 * reached without waiting. `skewMs` shifts only the `Date` header the server sends.
 */
export interface SimClock {
  now(): number
  advance(ms: number): void
  nowIso(): string
}

export function createSimClock(start: number = Date.now()): SimClock {
  let offset = start - Date.now()
  return {
    now: () => Date.now() + offset,
    advance: (ms: number) => {
      offset += ms
    },
    nowIso: () => new Date(Date.now() + offset).toISOString(),
  }
}
