/**
 * Figure `replicas`: records a second of a first full mirror of two streams (one Elean
 * connection, two streams of BENCH_REPLICAS_N tasks, unlimited rate), by one daemon and by two daemons
 * on one database, each a real `elsync run` process started at once as a deployment would, the
 * clock running from their start until both streams' first runs have finished. Each daemon waits
 * `ELSYNC_STARTUP_SETTLE_MS` (the default 2 s, in both cases) before its first pass.
 *
 *   node --import tsx bench/replicas.ts      (`npm run bench` runs it too, group `replicas`)
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { benchDatabase, line, type SimProcess, spawnSim } from './support.js'

const ROOT = join(import.meta.dirname, '..')

async function mirrorWith(daemons: number, n: number, sim: SimProcess): Promise<number> {
  const db = await benchDatabase()
  const dir = await mkdtemp(join(tmpdir(), 'elsync-replicas-'))
  const children: ReturnType<typeof spawn>[] = []
  try {
    // one connection's streams run one after another on one daemon (they share its rate budget):
    // what a second replica can take over
    await writeFile(
      join(dir, 'connections.yaml'),
      `connections:
  elean:
    kind: elean
    baseUrl: "${sim.baseUrl}"
    auth: { mode: bearer, token: "\${ELEAN_KEY}" }
    rateLimit: { perMinute: 1000000 }
    commentsPerScan: 0
    childBudget: 0
    poll: "0 0 1 1 *"
    streams:
      first: { project: bench }
      second: { project: bench }
`,
    )
    const env = {
      ...process.env,
      DATABASE_URL: db.url,
      ELSYNC_CONFIG_DIR: dir,
      ELSYNC_ADMIN_PORT: '0',
      LOG_LEVEL: 'warn',
      ELEAN_KEY: sim.credentials.apiKey ?? '',
    }
    const started = Date.now()
    for (let i = 0; i < daemons; i++) {
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/index.ts'), 'run'], { env, stdio: 'ignore' })
      children.push(child)
    }
    // both streams' first full runs finished
    for (;;) {
      const rows = await db.sql<{ status: string; seen: number }[]>`
        select status, records_seen as seen from elsync.sync_runs where status <> 'running' order by id`
      const bad = rows.find((r) => r.status !== 'succeeded')
      if (bad) throw new Error(`replicas bench: a run ended ${bad.status}`)
      if (rows.filter((r) => r.seen === n).length >= 2) break
      if (Date.now() - started > 600_000) throw new Error('replicas bench: the mirror did not finish within 10 minutes')
      await new Promise((r) => setTimeout(r, 100))
    }
    return (2 * n) / ((Date.now() - started) / 1000)
  } finally {
    for (const c of children) c.kill('SIGTERM')
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))))
    await db.drop()
    await rm(dir, { recursive: true, force: true })
  }
}

export async function replicas(opts: { n: number }): Promise<object> {
  const sim = await spawnSim('elean', opts.n)
  try {
    const one = await mirrorWith(1, opts.n, sim)
    const two = await mirrorWith(2, opts.n, sim)
    return {
      figure: 'replicas',
      records_per_stream: opts.n,
      one_daemon_rps: Math.round(one),
      two_daemons_rps: Math.round(two),
      ratio: +(two / one).toFixed(2),
    }
  } finally {
    sim.stop()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  line(await replicas({ n: Number(process.env.BENCH_REPLICAS_N ?? 5_000) }))
}
