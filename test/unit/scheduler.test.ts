import { describe, expect, it } from 'vitest'
import { createLogger, createRedactor } from '../../src/logger.js'
import { createScheduler } from '../../src/scheduler.js'
import { until } from '../support/until.js'

const logger = createLogger({ level: 'silent', format: 'json', redactor: createRedactor([]) })

/** A tick that runs until `release` is called, recording when it started and ended. */
function gate(name: string, events: string[]) {
  let release = (): void => {}
  return {
    release: () => release(),
    tick: () =>
      new Promise<void>((resolve) => {
        events.push(`${name} start`)
        release = () => {
          events.push(`${name} end`)
          resolve()
        }
      }),
  }
}

describe('scheduler', () => {
  it('runs an atStart entry once at start-up, without a tick time, and resolves start() when it is done', async () => {
    const ats: (Date | undefined)[] = []
    const scheduler = createScheduler([{ name: 'poll:x', expression: '0 0 1 1 *', atStart: true, tick: async (_s, at) => void ats.push(at) }], logger)
    await scheduler.start()
    expect(ats).toEqual([undefined])
    await scheduler.stop()
  })

  it('runs the entries of one lane one after the other, and entries of other lanes meanwhile', async () => {
    const events: string[] = []
    const [poll, full, other] = [gate('poll', events), gate('full', events), gate('other', events)]
    const scheduler = createScheduler(
      [
        { name: 'poll:x', lane: 'x', expression: '0 0 1 1 *', atStart: true, tick: poll.tick },
        { name: 'full-scan:x', lane: 'x', expression: '0 0 1 1 *', atStart: true, tick: full.tick },
        { name: 'poll:y', lane: 'y', expression: '0 0 1 1 *', atStart: true, tick: other.tick },
      ],
      logger,
    )
    const started = scheduler.start()
    await until('the first ticks', () => (events.length === 2 ? true : undefined))
    expect(events).toEqual(['poll start', 'other start'])
    poll.release()
    await until('the full scan', () => (events.includes('full start') ? true : undefined))
    expect(events).toEqual(['poll start', 'other start', 'poll end', 'full start'])
    full.release()
    other.release()
    await started
    await scheduler.stop()
  })

  it('starts no second interval tick while one runs, and stop aborts the one in flight', async () => {
    let signal: AbortSignal | undefined
    let ticks = 0
    const scheduler = createScheduler(
      [
        {
          name: 'takeover',
          everyMs: 5,
          tick: (s: AbortSignal) => {
            ticks++
            signal = s
            return new Promise<void>((resolve) => s.addEventListener('abort', () => resolve()))
          },
        },
      ],
      logger,
    )
    void scheduler.start()
    await until('a tick', () => signal)
    await scheduler.stop()
    // a tick still running was never started again
    expect(ticks).toBe(1)
    expect(signal?.aborted).toBe(true)
  })
})
