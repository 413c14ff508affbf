import { spawn } from 'node:child_process'
import { rm } from 'node:fs/promises'
import type { ArmedFailpoint } from '../../src/app.js'
import type { Sql } from '../../src/db/client.js'
import type { StartedElean } from '../../src/sim/elean/index.js'
import type { StartedElementum } from '../../src/sim/elementum/index.js'
import { startSimPair } from './sim.pair.js'

/**
 * A bidirectional world for spawned `elsync` processes: an Elementum and an Elean simulator
 * joined by the example mapping (mappings/it-requests.mapping.yaml: creates both ways), a
 * database, and the environment that points `elsync` at them. The crash tests and the
 * reliability sweep start from it.
 */
export interface BidiWorld {
  db: { sql: Sql; url: string }
  elementum: StartedElementum
  elean: StartedElean
  env: NodeJS.ProcessEnv
  close(): Promise<void>
}

export interface BidiWorldOptions {
  seed?: number
  left?: number
  right?: number
  /** More settings of each connection (connections.yaml), e.g. a short `timeoutMs`. */
  connections?: { elementum?: Record<string, string | number>; elean?: Record<string, string | number> }
}

export async function startBidiWorld(db: { sql: Sql; url: string }, opts: BidiWorldOptions = {}): Promise<BidiWorld> {
  const { elementum, elean, dir, simEnv } = await startSimPair(
    'elsync-bidi-',
    { ...(opts.connections?.elean && { elean: opts.connections.elean }), ...(opts.connections?.elementum && { elementum: opts.connections.elementum }) },
    {
      ...(opts.seed !== undefined && { seed: opts.seed }),
      ...(opts.left !== undefined && { left: opts.left }),
      ...(opts.right !== undefined && { right: opts.right }),
    },
  )
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'info', ...simEnv }
  delete env.ELSYNC_FAILPOINT
  return {
    db,
    elementum,
    elean,
    env,
    close: async () => {
      await Promise.all([elementum.close(), elean.close()])
      await rm(dir, { recursive: true, force: true })
    },
  }
}

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
  output: string
  ms: number
  /** ms from spawn to the first stream line, null when there was none. */
  firstLineMs: number | null
  /** Whether `killAtMs` struck the process (false: it had ended before). */
  killed: boolean
}

/**
 * One `elsync sync`, optionally armed with a fail-point or SIGKILLed `killAtMs` after spawn.
 * `command: 'run'` starts the daemon instead (it runs until `killAtMs` or the guard ends it).
 */
export function elsyncSync(
  world: Pick<BidiWorld, 'env'>,
  opts: { failpoint?: ArmedFailpoint; killAtMs?: number; guardMs?: number; env?: NodeJS.ProcessEnv; args?: readonly string[]; command?: 'sync' | 'run' } = {},
): Promise<Exit> {
  const started = Date.now()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', opts.command ?? 'sync', ...(opts.args ?? [])], {
    env: { ...world.env, ...opts.env, ...(opts.failpoint && { ELSYNC_FAILPOINT: opts.failpoint }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exit: Exit = { code: null, signal: null, output: '', ms: 0, firstLineMs: null, killed: false }
  const take = (b: Buffer) => {
    if (exit.firstLineMs === null && /^(ok|FAILED) /m.test(b.toString())) exit.firstLineMs = Date.now() - started
    exit.output += b.toString()
  }
  child.stdout.on('data', take)
  child.stderr.on('data', take)
  let ended = false
  const kill =
    opts.killAtMs === undefined
      ? undefined
      : setTimeout(() => {
          if (ended) return
          exit.killed = child.kill('SIGKILL')
        }, opts.killAtMs)
  // a hung run must fail its test, not the file's timeout
  const guard = setTimeout(() => child.kill('SIGTERM'), opts.guardMs ?? 90_000)
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      ended = true
      clearTimeout(guard)
      if (kill) clearTimeout(kill)
      resolve({ ...exit, code, signal, ms: Date.now() - started })
    })
  })
}

/**
 * The environment of a run that is about to be killed: leases of 2 s, so that the next run takes
 * over what it held (stream, mapping and outbox leases) after waiting a moment, as a replica
 * takes over a dead one's work, instead of skipping it for the default 30 s.
 */
export const DYING_RUN_ENV = { ELSYNC_LEASE_SECONDS: '2' } as const

/** Leases still held (by a dead process, once its run has ended): stream and mapping leases and claimed outbox rows. */
export async function heldLeases(sql: Sql): Promise<number> {
  const [streams] = await sql<{ n: number }[]>`select count(*)::int as n from elsync.stream_leases where expires_at > now() and owner is not null`
  const [rows] = await sql<{ n: number }[]>`select count(*)::int as n from elsync.outbox where lease_expires_at > now()`
  return (streams?.n ?? 0) + (rows?.n ?? 0)
}

export { titles, writeCount } from './sim.pair.js'
