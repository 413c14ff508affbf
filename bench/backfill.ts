/**
 * Figure `backfill_page_cost`: a first full scan of N Elean tasks into an empty mirror, and
 * the time `applyPage` took per 100 records (a page) in its first and last tenth of saves (medians,
 * so one slow save or the first one's warm-up does not decide; a full scan saves five pages at a
 * time, see `SCAN_BATCH_PAGES`). A constant cost per page gives a ratio near 1;
 * a page cost that grows with the stream (issue 13) makes the whole backfill quadratic.
 *
 *   BENCH_BACKFILL_N=50000 node --import tsx bench/backfill.ts   (alone; `npm run bench` runs it too)
 */
import { pathToFileURL } from 'node:url'
import { createPgMirror } from '../src/db/mirror.store.js'
import type { MirrorStore } from '../src/engine/ports.js'
import { runStream } from '../src/engine/poll.js'
import { createLogger, createRedactor, type Logger, type Redactor } from '../src/logger.js'
import { benchDatabase, eleanBenchConnector, line, spawnSim } from './support.js'

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2
}

export async function backfillPageCost(n: number, deps: { logger: Logger; redactor: Redactor }): Promise<object> {
  const db = await benchDatabase()
  const sim = await spawnSim('elean', n)
  try {
    const mirror = createPgMirror(db.sql)
    const pageMs: number[] = []
    const timed: MirrorStore = {
      ...mirror,
      applyPage: async (stream, page, opts) => {
        const t0 = performance.now()
        const result = await mirror.applyPage(stream, page, opts)
        if (page.records.length > 0) pageMs.push(((performance.now() - t0) / page.records.length) * 100)
        return result
      },
    }
    const run = await runStream(timed, {
      stream: { connection: 'elean', stream: 'bench' },
      connector: eleanBenchConnector(sim, 'elean', deps),
      mode: 'full',
      signal: AbortSignal.timeout(3_600_000),
      lookbackMs: 0,
      maxDeleteFraction: 0.1,
    })
    if (run.status !== 'succeeded' || run.seen !== n) throw new Error(`backfill of ${n}: ${JSON.stringify(run)}`)
    const tenth = Math.max(1, Math.floor(pageMs.length / 10))
    const first = median(pageMs.slice(0, tenth))
    const last = median(pageMs.slice(-tenth))
    return {
      figure: 'backfill_page_cost',
      n,
      pages: run.pages,
      saves: pageMs.length,
      first_tenth_ms: +first.toFixed(1),
      last_tenth_ms: +last.toFixed(1),
      ratio: +(last / first).toFixed(2),
    }
  } finally {
    sim.stop()
    await db.drop()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const redactor = createRedactor()
  line(await backfillPageCost(Number(process.env.BENCH_BACKFILL_N ?? 50_000), { logger: createLogger({ level: 'silent', redactor }), redactor }))
}
