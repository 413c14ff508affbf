import { afterEach, describe, expect, it, vi } from 'vitest'
import { createScheduler } from '../../src/scheduler.js'
import { captureLogs } from '../support/logs.js'
import { until } from '../support/until.js'

/** node-cron prints its own notices with console.warn; the daemon's log (JSON lines, say) must not be interleaved with them. */
describe('the scheduler', () => {
  afterEach(() => vi.restoreAllMocks())

  it('logs node-cron’s notice of a tick skipped while the previous one runs, instead of printing it', async () => {
    const logs = captureLogs()
    const printed = vi.spyOn(console, 'warn')
    let release = (): void => {}
    const held = new Promise<void>((r) => (release = r))
    const scheduler = createScheduler([{ name: 'poll:slow', expression: '* * * * * *', tick: () => held }], logs.logger)
    scheduler.start()
    try {
      await until('a skipped tick', () => (logs.text().includes('overlap prevention') ? true : undefined), 10_000)
    } finally {
      release()
      await scheduler.stop()
    }
    expect(printed).not.toHaveBeenCalled()
    expect(logs.lines.find((l) => l.includes('overlap prevention'))).toContain('"schedule":"poll:slow"')
  })
})
