/**
 * Figure `freshness`: seconds from a change made in one simulator to its arrival in the other,
 * through the daemon as `elsync demo` runs it (the example mappings, Elementum and Elean polled
 * every BENCH_POLL_S seconds, default 5). The demo's person (src/sim/actor.ts) edits a title or
 * a status of a linked task, in Elementum and in Elean in turn, at a random moment of the poll
 * interval, and the other simulator's stored task is watched until it shows the change. The
 * changes start once the initial sync is done and its writes have left Elean's rate window.
 * Changes are made one at a time, BENCH_FRESHNESS_N of them (default 20); BENCH_DEBUG=1 prints
 * where each one's time went.
 *
 *   node --import tsx bench/freshness.ts      (alone; `npm run bench` runs it too)
 */
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type Arrival, percentile } from '../src/cli/demo.arrivals.js'
import { initialSync, startDemo } from '../src/cli/demo.setup.js'
import type { Sql } from '../src/db/client.js'
import { createPrng } from '../src/sim/common/prng.js'
import { createActor, type ActorKind, type ActorSystem } from '../src/sim/actor.js'
import { benchDatabase, line } from './support.js'

const round = (x: number): number => +x.toFixed(2)
/** The rate budget's window for Elean's 60 requests a minute (src/http/budget.ts). */
const ELEAN_WINDOW_MS = 61_000

/**
 * Where one change's time went (BENCH_DEBUG=1), in seconds after the edit: the poll run that
 * read it, when it was recorded, when reconcile queued the write and when it was sent.
 */
async function timeline(sql: Sql, arrival: Arrival): Promise<string> {
  const { action } = arrival
  const t = (d: Date | string | null | undefined) => (d ? ((new Date(d).getTime() - action.at.getTime()) / 1000).toFixed(2) : '-')
  const [seen] = await sql<{ observed_at: Date; started_at: Date; finished_at: Date }[]>`
    select h.observed_at, r.started_at, r.finished_at from elsync.record_history h join elsync.sync_runs r on r.id = h.run_id
    where h.remote_id = ${action.remoteId} and h.source = 'poll' order by h.observed_at desc limit 1`
  const [write] = await sql<{ created_at: Date; sent_at: Date }[]>`
    select created_at, sent_at from elsync.writes where remote_id = ${arrival.task.remoteId} order by write_id desc limit 1`
  return `${action.system} ${action.kind} ${arrival.seconds.toFixed(2)} s: poll ${t(seen?.started_at)}..${t(seen?.finished_at)}, recorded ${t(seen?.observed_at)}, queued ${t(write?.created_at)}, sent ${t(write?.sent_at)}`
}

export async function freshness(opts: { changes: number; pollSeconds: number }): Promise<object> {
  const db = await benchDatabase()
  const demo = await startDemo({
    records: 20,
    pollSeconds: opts.pollSeconds,
    configDir: join(import.meta.dirname, '..', 'mappings'),
    documentedPorts: false,
    extraEnv: { DATABASE_URL: db.url, ELSYNC_ADMIN_PORT: '0', LOG_LEVEL: 'silent' },
    say: () => {},
    onRun: () => {},
  })
  try {
    const { scene } = demo
    if (!scene) throw new Error('freshness: the example config has no Elementum ↔ Elean mapping')
    await demo.daemon.pollAll()
    const settled = await initialSync(demo, { withinMs: 300_000, quietMs: 2 * opts.pollSeconds * 1000 + 1_000, everyMs: 60_000, onProgress: () => {} })
    if (!settled) throw new Error('freshness: the initial sync did not settle within 5 minutes')
    // steady state: Elean's 60 requests a minute are counted over a sliding minute, and the
    // initial sync's writes would hold back the first changes' pushes while they are in it
    await new Promise((r) => setTimeout(r, ELEAN_WINDOW_MS))
    const actor = createActor({
      targets: scene.targets,
      seed: 13,
      eligible: scene.arrivals.onlyLinked(),
    })
    const prng = createPrng(13)
    const by: Record<string, number[]> = { 'elementum→elean': [], 'elean→elementum': [] }
    const all: number[] = []
    let missed = 0
    for (let i = 0; i < opts.changes; i++) {
      const system: ActorSystem = i % 2 === 0 ? 'elementum' : 'elean'
      const kind: ActorKind = Math.floor(i / 2) % 2 === 0 ? 'title' : 'status'
      // a random moment of the poll interval, so that the wait for the next poll is not always the same
      await new Promise((r) => setTimeout(r, prng.int(0, opts.pollSeconds * 1000)))
      const action = await actor.act({ system, kind })
      if (!action) throw new Error(`freshness: no linked ${system} task to edit`)
      const arrival = await scene.arrivals.waitFor(action, { withinMs: 60_000, everyMs: 50 })
      if (!arrival) {
        missed += 1
        continue
      }
      all.push(arrival.seconds)
      by[`${system}→${arrival.system}`]?.push(arrival.seconds)
      if (process.env.BENCH_DEBUG) console.error(await timeline(demo.daemon.db.sql, arrival))
    }
    const stats = (xs: number[]) => ({ p50_s: round(percentile(xs, 50)), p95_s: round(percentile(xs, 95)), max_s: round(Math.max(...xs)) })
    return {
      figure: 'freshness',
      poll_s: opts.pollSeconds,
      changes: opts.changes,
      missed,
      ...stats(all),
      goal_p95_s: opts.pollSeconds + 2,
      elementum_to_elean: stats(by['elementum→elean'] ?? []),
      elean_to_elementum: stats(by['elean→elementum'] ?? []),
    }
  } finally {
    await demo.stop()
    await db.drop()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  line(await freshness({ changes: Number(process.env.BENCH_FRESHNESS_N ?? 20), pollSeconds: Number(process.env.BENCH_POLL_S ?? 5) }))
}
