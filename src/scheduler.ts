import cron, { type ScheduledTask } from 'node-cron'
import { InterruptedError } from './engine/errors.js'
import type { Logger } from './logger.js'

/**
 * Thin: one node-cron task (or interval) per entry whose callback triggers the engine. A tick
 * that is still running when the next one is due is skipped (noOverlap); entries of one lane
 * (a connection's polls and full scans) take turns, so a full scan due while a poll runs waits
 * for it instead of finding its streams busy; a tick's error is logged, never allowed to kill
 * the schedule.
 */
export interface Scheduler {
  /** Starts the schedules; resolves when the start-up runs (`atStart`) are done. */
  start(): Promise<void>
  /** Stops scheduling, aborts the ticks in flight and waits for them, at most `waitMs`. */
  stop(): Promise<void>
}

interface EntryBase {
  name: string
  /** Entries of one lane never run at the same time on this replica: a tick waits for the running one. */
  lane?: string
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

export interface CronEntry extends EntryBase {
  expression: string
  /** Also run once when the scheduler starts (a daemon started at 10:00:05 on `*\/1` does not wait until 10:01). */
  atStart?: boolean
  /** `at` is the schedule time of this tick (the same on every replica), not when it fired; absent for the start-up run. */
  tick: (signal: AbortSignal, at?: Date) => Promise<void>
}

export interface IntervalEntry extends EntryBase {
  everyMs: number
  tick: (signal: AbortSignal) => Promise<void>
}

export type ScheduleEntry = CronEntry | IntervalEntry

export function createScheduler(entries: readonly ScheduleEntry[], logger: Logger, opts: { waitMs?: number } = {}): Scheduler {
  const log = logger.child({ component: 'scheduler' })
  const waitMs = opts.waitMs ?? 10_000
  const controller = new AbortController()
  const running = new Set<Promise<void>>()
  const lanes = new Map<string, Promise<void>>()
  let tasks: ScheduledTask[] = []
  const timers: NodeJS.Timeout[] = []

  /** Runs one tick after the lane's previous one, tracked until it settles. */
  function fire(e: ScheduleEntry, body: () => Promise<void>): Promise<void> {
    if (controller.signal.aborted) return Promise.resolve()
    const previous = e.lane === undefined ? undefined : lanes.get(e.lane)
    const run = (previous ?? Promise.resolve())
      .then(() => (controller.signal.aborted ? undefined : body()))
      .catch((err: unknown) => log.error({ err, schedule: e.name }, 'scheduled run failed'))
    if (e.lane !== undefined) {
      const lane = e.lane
      lanes.set(lane, run)
      void run.finally(() => lanes.get(lane) === run && lanes.delete(lane))
    }
    running.add(run)
    void run.finally(() => running.delete(run))
    return run
  }

  function every(e: IntervalEntry): void {
    let busy = false
    const timer = setInterval(() => {
      if (busy) return
      busy = true
      void fire(e, () => e.tick(controller.signal)).finally(() => {
        busy = false
      })
    }, e.everyMs)
    timer.unref()
    timers.push(timer)
  }

  return {
    start() {
      const startup: Promise<void>[] = []
      for (const e of entries) {
        if ('everyMs' in e) {
          every(e)
          continue
        }
        tasks.push(
          cron.schedule(e.expression, (context) => fire(e, () => e.tick(controller.signal, context.date)), {
            name: e.name,
            noOverlap: true,
            logger: cronLogger(log, e.name),
          }),
        )
        if (e.atStart) startup.push(fire(e, () => e.tick(controller.signal)))
      }
      log.info({ schedules: entries.map((e) => ('everyMs' in e ? `${e.name} every ${e.everyMs} ms` : `${e.name} ${e.expression}`)) }, 'scheduler started')
      return Promise.all(startup).then(() => {})
    },
    async stop() {
      for (const t of tasks) await t.stop()
      tasks = []
      for (const t of timers.splice(0)) clearInterval(t)
      controller.abort(new InterruptedError('elsync is shutting down'))
      // in-flight runs see the abort at their next request; wait for them, bounded
      await Promise.race([Promise.allSettled([...running]), new Promise((r) => setTimeout(r, waitMs).unref())])
    },
  }
}
