import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { eleanConnectionSchema } from '../src/connectors/elean/index.js'
import { createElean } from '../src/connectors/elean/index.js'
import { createDatabase, dropDatabase } from '../src/db/admin.js'
import { createDb, type DbHandle } from '../src/db/client.js'
import { startEmbeddedPostgres } from '../src/db/embedded.js'
import { runMigrations } from '../src/db/migrate.js'
import type { Connector } from '../src/engine/ports.js'
import { createHttpClient } from '../src/http/client.js'
import type { Logger, Redactor } from '../src/logger.js'

export interface BenchDb extends DbHandle {
  url: string
  drop(): Promise<void>
}

/** A fresh migrated database: on DATABASE_URL's server when set, else an embedded one. */
export async function benchDatabase(): Promise<BenchDb> {
  let adminUrl = process.env.DATABASE_URL
  let stopEmbedded: (() => Promise<void>) | undefined
  if (!adminUrl) {
    const pg = await startEmbeddedPostgres({ dataDir: join(tmpdir(), `elsync-bench-${process.pid}`), port: 0 })
    adminUrl = pg.url
    stopEmbedded = pg.stop
  }
  const name = `elsync_bench_${randomBytes(4).toString('hex')}`
  const url = await createDatabase(adminUrl, name)
  await runMigrations(url)
  const handle = createDb(url, { max: 4 })
  return {
    ...handle,
    url,
    drop: async () => {
      await handle.close()
      await dropDatabase(adminUrl as string, name)
      await stopEmbedded?.()
    },
  }
}

export interface SimProcess {
  baseUrl: string
  simUrl: string
  credentials: Record<string, string>
  /** elementum-attachment: the file's sha256. */
  sha256?: string
  child: ChildProcess
  stop(): void
}

/** `elementum-attachment`: `count` is the size in MB of the one file to copy (see sim-server.ts). */
export async function spawnSim(kind: 'elean' | 'elementum' | 'elementum-attachment', count: number): Promise<SimProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'sim-server.ts'), kind, String(count)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout! })
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve)
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)))
  })
  const info = JSON.parse(first) as Omit<SimProcess, 'child' | 'stop'>
  return { ...info, child, stop: () => child.kill('SIGTERM') }
}

/** Samples this process's RSS every 20 ms while `fn` runs; returns the peak growth in MB. */
export async function peakRssGrowthMb<T>(fn: () => Promise<T>): Promise<{ result: T; peakMb: number }> {
  global.gc?.()
  const base = process.memoryUsage().rss
  let peak = base
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20)
  try {
    const result = await fn()
    peak = Math.max(peak, process.memoryUsage().rss)
    return { result, peakMb: Math.round(((peak - base) / 1024 / 1024) * 10) / 10 }
  } finally {
    clearInterval(timer)
  }
}

export const line = (o: object): void => console.log(JSON.stringify(o))

export interface ProbeResult {
  status: string
  seen: number
  peakMb: number
  /** Heap still in use after the run and a forced GC: what the run kept. */
  retainedHeapMb: number
  /** How long the run took. */
  ms: number
}

/** Runs a probe script of bench/ in a fresh process (with --expose-gc and `nodeFlags`) and returns the JSON of its last line. */
export async function runScript<T>(script: string, args: readonly string[], nodeFlags: readonly string[] = []): Promise<T> {
  const child = spawn(process.execPath, ['--expose-gc', ...nodeFlags, '--import', 'tsx', join(import.meta.dirname, script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  if (code !== 0) throw new Error(`${script} exited with ${code}`)
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as T
}

/** Runs bench/mirror-probe.ts in a fresh process (Node started with `nodeFlags`) and returns what it printed. */
export function runProbe(dbUrl: string, sim: SimProcess, connection: string, nodeFlags: readonly string[] = []): Promise<ProbeResult> {
  const { baseUrl, credentials } = sim
  return runScript<ProbeResult>('mirror-probe.ts', [dbUrl, JSON.stringify({ baseUrl, credentials }), connection], nodeFlags)
}

/** The Elean connector every benchmark uses: the simulator's project `bench`, comment polling off. */
export function eleanBenchConnector(sim: Pick<SimProcess, 'baseUrl' | 'credentials'>, name: string, deps: { logger: Logger; redactor: Redactor }): Connector {
  const config = eleanConnectionSchema.parse({
    kind: 'elean',
    baseUrl: sim.baseUrl,
    auth: { mode: 'bearer', token: sim.credentials.apiKey },
    streams: { bench: { project: 'bench' } },
  })
  const http = createHttpClient({ name, baseUrl: config.baseUrl, auth: config.auth }, deps)
  return createElean({ name, config, http, logger: deps.logger }, { commentsPerScan: 0 })
}

/** CPU milliseconds (user + system) a process has used, from /proc; null where there is no /proc. */
function processCpuMs(pid: number): number | null {
  try {
    // fields after the command name: state is the 1st, utime the 12th, stime the 13th (clock ticks of 10 ms)
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return null
  }
}

/**
 * Measures the CPU that `fn` costs this process, the database's backends (all connections to
 * the bench database) and, when given, a simulator process: on a machine shared with other work
 * the rows/s ratio is mostly a ratio of CPU spent, and this says whose. Milliseconds, null where
 * /proc is missing (backends are only visible when the server runs on this machine).
 */
export async function cpuOf<T>(
  db: BenchDb,
  sim: SimProcess | null,
  fn: () => Promise<T>,
): Promise<{ result: T; node: number; postgres: number | null; simulator: number | null }> {
  const backends = async () => (await db.sql<{ pid: number }[]>`select pid from pg_stat_activity where datname = current_database()`).map((r) => r.pid)
  const before = new Map((await backends()).map((pid) => [pid, processCpuMs(pid)]))
  const sim0 = sim?.child.pid ? processCpuMs(sim.child.pid) : null
  const node0 = process.cpuUsage()
  const result = await fn()
  const node = process.cpuUsage(node0)
  let postgres: number | null = 0
  for (const pid of new Set([...before.keys(), ...(await backends())])) {
    const now = processCpuMs(pid)
    if (now === null || postgres === null) postgres = null
    else postgres += now - (before.get(pid) ?? 0)
  }
  const sim1 = sim?.child.pid ? processCpuMs(sim.child.pid) : null
  return { result, node: (node.user + node.system) / 1000, postgres, simulator: sim0 === null || sim1 === null ? null : sim1 - sim0 }
}
