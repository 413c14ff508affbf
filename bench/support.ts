import { spawn, type ChildProcess } from 'node:child_process'
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
}

/** Runs a probe script of bench/ in a fresh process (with --expose-gc) and returns the JSON of its last line. */
export async function runScript<T>(script: string, args: readonly string[]): Promise<T> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(import.meta.dirname, script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  if (code !== 0) throw new Error(`${script} exited with ${code}`)
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as T
}

/** Runs bench/mirror-probe.ts in a fresh process and returns what it printed. */
export function runProbe(dbUrl: string, sim: SimProcess, connection: string): Promise<ProbeResult> {
  const { baseUrl, credentials } = sim
  return runScript<ProbeResult>('mirror-probe.ts', [dbUrl, JSON.stringify({ baseUrl, credentials }), connection])
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
