/**
 * Figure `replicas`: records/s of a full mirror of two streams (two Elean projects of
 * BENCH_REPLICAS_N records each, default 2 000, on one simulator; in two connections, or in one
 * with BENCH_REPLICAS_CONNECTIONS=1) by one
 * `elsync run` daemon, then by two started together, each time on a fresh database. The
 * clock runs from the daemons' spawn until `elsync.records` holds every record of both streams;
 * the polls are the daemons' start-up passes (the schedule's next tick is a year away), after
 * ELSYNC_STARTUP_SETTLE_MS of BENCH_REPLICAS_SETTLE_MS (default 1 000; 0 to see daemons that do
 * not wait for each other). `runs_only` counts from the first run's start to the last one's end.
 *
 * BENCH_DEBUG=1 prints the daemons' log lines (which one ran which stream).
 *
 *   node --import tsx bench/replicas.ts      (alone; `npm run bench` runs it as group `replicas`)
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import { eleanSimConnection } from '../src/sim/connections.js'
import { benchDatabase, line, type SimProcess, spawnSim } from './support.js'

const STREAMS = ['bench', 'bench2'] as const
const CONNECTIONS = Number(process.env.BENCH_REPLICAS_CONNECTIONS ?? 2)
const SETTLE_MS = Number(process.env.BENCH_REPLICAS_SETTLE_MS ?? 1_000)

/** Seconds from spawning `daemons` daemons on a fresh database until both streams are mirrored. */
async function mirrorSeconds(sim: SimProcess, perStream: number, daemons: number): Promise<{ wallS: number; runsS: number }> {
  const db = await benchDatabase()
  const dir = await mkdtemp(join(tmpdir(), 'elsync-bench-replicas-'))
  const children: ChildProcess[] = []
  try {
    // the key by `${ELEAN_KEY}`, from the environment; the schedule's next tick a year away
    const connection = (projects: readonly string[]) =>
      eleanSimConnection({ baseUrl: sim.baseUrl, credentials: { apiKey: '${ELEAN_KEY}' } }, projects, { poll: '0 0 1 1 *' })
    // one connection polls its streams in turn, two side by side
    const connections = CONNECTIONS === 1 ? { elean: connection(STREAMS) } : Object.fromEntries(STREAMS.map((p, i) => [`elean${i + 1}`, connection([p])]))
    // JSON is YAML
    await writeFile(join(dir, 'connections.yaml'), JSON.stringify({ connections }))
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: db.url,
      ELSYNC_CONFIG_DIR: dir,
      ELSYNC_ADMIN_PORT: '0',
      LOG_LEVEL: process.env.BENCH_DEBUG ? 'info' : 'warn',
      ELEAN_KEY: sim.credentials.apiKey ?? '',
      // daemons started together see each other before they poll (one alone waits all the same)
      ELSYNC_STARTUP_SETTLE_MS: String(SETTLE_MS),
    }
    delete env.ELSYNC_FAILPOINT
    const root = join(import.meta.dirname, '..')
    const t0 = performance.now()
    for (let i = 0; i < daemons; i++) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'run'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
      children.push(child)
      // warnings and errors (BENCH_DEBUG=1: every log line) go to stderr, each tagged with its daemon
      const tagged = (b: Buffer) => {
        for (const l of b.toString().split('\n')) if (l.startsWith('{')) console.error(`daemon ${i + 1}: ${l}`)
      }
      child.stdout?.on('data', tagged)
      child.stderr?.on('data', tagged)
      child.once('exit', (code, signal) => {
        if (signal === null && code !== 0) console.error(`replicas: a daemon exited with ${code}`)
      })
    }
    const want = perStream * STREAMS.length
    for (;;) {
      const [row] = await db.sql<{ n: number }[]>`
        select count(*)::int as n from elsync.records r where exists (select 1 from elsync.sync_runs s where s.connection = r.connection and s.stream = r.stream and s.status = 'succeeded')`
      if ((row?.n ?? 0) >= want) break
      if (performance.now() - t0 > 600_000) throw new Error(`replicas: ${row?.n} of ${want} records after 10 minutes`)
      await sleep(50)
    }
    const wallS = (performance.now() - t0) / 1000
    // the mirror itself, without the daemons' start: the first run's start to the last one's end
    const [span] = await db.sql<{ s: number }[]>`select extract(epoch from max(finished_at) - min(started_at))::float8 as s from elsync.sync_runs`
    return { wallS, runsS: span?.s ?? wallS }
  } finally {
    for (const c of children) c.kill('SIGTERM')
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)))
    await db.drop()
    await rm(dir, { recursive: true, force: true })
  }
}

export async function replicas(perStream: number): Promise<object> {
  const sim = await spawnSim('elean', perStream, STREAMS.slice(1))
  try {
    const total = perStream * STREAMS.length
    const one = await mirrorSeconds(sim, perStream, 1)
    const two = await mirrorSeconds(sim, perStream, 2)
    const rps = (s: number) => Math.round(total / s)
    return {
      figure: 'replicas',
      streams: STREAMS.length,
      connections: CONNECTIONS,
      settle_ms: SETTLE_MS,
      records_per_stream: perStream,
      one_daemon_rps: rps(one.wallS),
      two_daemons_rps: rps(two.wallS),
      ratio: +(one.wallS / two.wallS).toFixed(2),
      // the same without the daemons' start (process boot, migrations): first run start to last run end
      runs_only: { one_daemon_rps: rps(one.runsS), two_daemons_rps: rps(two.runsS), ratio: +(one.runsS / two.runsS).toFixed(2) },
    }
  } finally {
    sim.stop()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  line(await replicas(Number(process.env.BENCH_REPLICAS_N ?? 2_000)))
}
