import cron, { type ScheduledTask } from 'node-cron'
import { InterruptedError } from './engine/errors.js'
import type { Logger } from './logger.js'

/**
 * Thin: one node-cron task per connection whose callback triggers the engine. A tick
 * that is still running when the next one is due is skipped (noOverlap), and a tick's
 * error is logged, never allowed to kill the schedule.
 */
export interface Scheduler {
  start(): void
  stop(): Promise<void>
}

export interface ScheduleEntry {
  name: string
  expression: string
  /** `at` is the schedule time of this tick (the same on every replica), not when it fired. */
  tick: (signal: AbortSignal, at: Date) => Promise<void>
}

/**
 * node-cron's own notices go to our logger, not to the console (where they broke JSON log
 * lines): a tick skipped because the previous one still runs is part of the design (info).
 */
function cronLogger(log: Logger, schedule: string) {
  const text = (m: string | Error) => (m instanceof Error ? m.message : m)
  return {
    info: (m: string) => log.debug({ schedule }, m),
    warn: (m: string) => log.info({ schedule }, m),
    error: (m: string | Error, err?: Error) => log.error({ schedule, err: err ?? m }, text(m)),
    debug: (m: string | Error) => log.debug({ schedule }, text(m)),
  }
}

export function createScheduler(entries: readonly ScheduleEntry[], logger: Logger): Scheduler {
  const log = logger.child({ component: 'scheduler' })
  const controller = new AbortController()
  const running = new Set<Promise<void>>()
  let tasks: ScheduledTask[] = []
  return {
    start() {
      tasks = entries.map((e) =>
        cron.schedule(
          e.expression,
          (context) => {
            if (controller.signal.aborted) return
            const run = e.tick(controller.signal, context.date).catch((err: unknown) => log.error({ err, schedule: e.name }, 'scheduled run failed'))
            running.add(run)
            void run.finally(() => running.delete(run))
            return run
          },
          { name: e.name, noOverlap: true, logger: cronLogger(log, e.name) },
        ),
      )
      log.info({ schedules: entries.map((e) => `${e.name} ${e.expression}`) }, 'scheduler started')
    },
    async stop() {
      for (const t of tasks) await t.stop()
      tasks = []
      controller.abort(new InterruptedError('elsync is shutting down'))
      // in-flight runs see the abort at their next page; wait for them, bounded
      await Promise.race([Promise.allSettled([...running]), new Promise((r) => setTimeout(r, 10_000).unref())])
    },
  }
}
