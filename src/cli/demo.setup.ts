/**
 * What `elsync demo` runs, as one piece the freshness benchmark and the demo's test reuse:
 * the four simulators with sample data, the config directory (./mappings) pointed at them
 * and polled every few seconds, the daemon, and the actor's view of the mapping it works across.
 */
import type { AppContext } from '../app.js'
import { type Env, processEnv } from '../config/env.js'
import type { Config, ConnectionConfig, MappingConfig } from '../config/schema.js'
import { type Daemon, startDaemon } from '../main.js'
import type { ActorSystem, ActorTargets } from '../sim/actor.js'
import type { AllSims } from '../sim/index.js'
import { createArrivals, type Arrivals } from './demo.arrivals.js'
import { loadContext } from './context.js'
import { exampleConfigEnv, portIsFree, seedAll, startOnDefaultPorts } from './sim.js'
import { startAllSims } from '../sim/index.js'

/**
 * Elean allows 60 requests a minute, reads and writes together, and every poll lists the
 * project (one request a page) and reads the comments of `commentsPerScan` tasks (one each).
 * Polled every 5 s with one comment read a scan, polls take 24 requests a minute and
 * leave 36 for writes: the demo's first writes fit in the first minute.
 */
export const DEMO_ELEAN_COMMENTS_PER_SCAN = 1
export const DEMO_ADMIN_PORT = 8787

export interface DemoOptions {
  records: number
  pollSeconds: number
  configDir?: string | undefined
  /** The simulators on ports 4101–4104 where free (the docs' curls use them); otherwise any free port. */
  documentedPorts: boolean
  /** Recreate this database on the server and use it (the demo's `elsync_demo`); absent: use the configured database as it is. */
  freshDatabase?: string
  /** Settings over the process environment (tests: DATABASE_URL, the admin port). */
  extraEnv?: Env
  say: (line: string) => void
  /** The daemon's lines: finished stream runs that changed something, what each reconcile queued. */
  onRun: (line: string) => void
}

export interface ActorScene {
  mapping: MappingConfig
  targets: ActorTargets
  arrivals: Arrivals
}

export interface Demo {
  sims: AllSims
  /** Simulators that could not have their documented port. */
  moved: string[]
  ctx: AppContext
  daemon: Daemon
  /** The Elementum ↔ Elean mapping the actor works across; null when the config has none. */
  scene: ActorScene | null
  stop(): Promise<void>
}

/** A cron expression (node-cron's seconds field) that fires every `seconds`. */
export const everySeconds = (seconds: number): string => `*/${seconds} * * * * *`

/** The Elementum ↔ Elean mapping, and which side each system is. */
function sceneMapping(config: Config): { mapping: MappingConfig; sides: Record<ActorSystem, 'left' | 'right'> } | null {
  const kindOf = (connection: string) => config.connections[connection]?.kind
  for (const mapping of config.mappings) {
    const [l, r] = [kindOf(mapping.left.connection), kindOf(mapping.right.connection)]
    if (l === 'elementum' && r === 'elean') return { mapping, sides: { elementum: 'left', elean: 'right' } }
    if (l === 'elean' && r === 'elementum') return { mapping, sides: { elementum: 'right', elean: 'left' } }
  }
  return null
}

/** The config as the demo runs it: the connections of mappings polled every `pollSeconds`, Elean's comment reads within its budget. */
export function demoConfig(config: Config, pollSeconds: number): Config {
  const mapped = new Set(config.mappings.flatMap((m) => [m.left.connection, m.right.connection]))
  const connections: Record<string, ConnectionConfig> = {}
  for (const [name, c] of Object.entries(config.connections)) {
    if (!mapped.has(name)) connections[name] = c
    else if (c.kind === 'elean')
      connections[name] = {
        ...c,
        poll: everySeconds(pollSeconds),
        commentsPerScan: Math.min(c.commentsPerScan ?? Number.POSITIVE_INFINITY, DEMO_ELEAN_COMMENTS_PER_SCAN),
      }
    else connections[name] = { ...c, poll: everySeconds(pollSeconds) }
  }
  return { ...config, connections }
}

/** Where the actor works: the simulators' control URLs, the mapped streams, the statuses the mapping carries across. */
function actorScene(ctx: AppContext, sims: AllSims, daemon: Daemon): ActorScene | null {
  const found = sceneMapping(ctx.config)
  if (!found) return null
  const { mapping, sides } = found
  const streamOf = (system: ActorSystem) => {
    const side = mapping[sides[system]]
    return ctx.config.connections[side.connection]?.streams[side.stream] as { recordType?: string; alias?: string; project?: string } | undefined
  }
  const status = mapping.fields.find((f) => f[sides.elementum] === 'Status' && f[sides.elean] === 'status')
  const values = Object.entries(status?.values ?? {})
  // a left value may list several right values (each maps back to it): the actor sets every one
  const statuses = (system: ActorSystem) => values.flatMap(([left, right]) => (sides[system] === 'left' ? [left] : typeof right === 'string' ? [right] : right))
  const targets: ActorTargets = {
    elementum: {
      url: sims[0].server.url,
      recordType: streamOf('elementum')?.recordType ?? 'tasks',
      alias: streamOf('elementum')?.alias ?? '',
      statuses: statuses('elementum'),
    },
    elean: { url: sims[1].server.url, project: streamOf('elean')?.project ?? '', statuses: statuses('elean') },
  }
  return { mapping, targets, arrivals: createArrivals({ sql: daemon.db.sql, mapping, sides, targets }) }
}

/** Writes queued or waiting for a retry. */
export async function outboxBacklog(demo: Pick<Demo, 'daemon'>): Promise<number> {
  const [row] = await demo.daemon.db.sql<{ n: number }[]>`select count(*)::int as n from elsync.writes where state in ('pending', 'failed')`
  return row?.n ?? 0
}

/**
 * Until the first writes are out and read back: each system gets the records it lacks (Elean
 * at 60 requests a minute), and the polls that read them queue nothing more (the backlog
 * stays empty for `quietMs`). Reports the backlog every `everyMs`; false after `withinMs` or
 * on `signal`.
 */
export async function initialSync(
  demo: Pick<Demo, 'daemon'>,
  opts: { withinMs: number; quietMs: number; everyMs: number; signal?: AbortSignal; onProgress: (backlog: number) => void },
): Promise<boolean> {
  const deadline = Date.now() + opts.withinMs
  let reported = Date.now()
  let emptySince: number | null = null
  while (!opts.signal?.aborted) {
    const backlog = await outboxBacklog(demo)
    const now = Date.now()
    emptySince = backlog > 0 ? null : (emptySince ?? now)
    if (emptySince !== null && now - emptySince >= opts.quietMs) return true
    if (now >= deadline) return false
    if (backlog > 0 && now - reported >= opts.everyMs) {
      opts.onProgress(backlog)
      reported = now
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  return false
}

export async function startDemo(opts: DemoOptions): Promise<Demo> {
  const { sims, moved } = opts.documentedPorts ? await startOnDefaultPorts({ seed: 1 }) : { sims: await startAllSims({ seed: 1 }), moved: [] }
  try {
    seedAll(sims, opts.records, 1)
    const extraEnv: Record<string, string | undefined> = { ...exampleConfigEnv(sims), ...opts.extraEnv }
    // another elsync on this machine may hold the admin port: then any free one
    if (extraEnv.ELSYNC_ADMIN_PORT === undefined && processEnv().ELSYNC_ADMIN_PORT === undefined && !(await portIsFree(DEMO_ADMIN_PORT, '0.0.0.0')))
      extraEnv.ELSYNC_ADMIN_PORT = '0'
    const loaded = await loadContext({ configDir: opts.configDir, extraEnv })
    const ctx: AppContext = { ...loaded, config: demoConfig(loaded.config, opts.pollSeconds) }
    const daemon = await startDaemon(ctx, {
      say: opts.say,
      onRun: opts.onRun,
      quietRuns: true,
      ...(opts.freshDatabase ? { freshDatabase: opts.freshDatabase } : {}),
    })
    return {
      sims,
      moved,
      ctx,
      daemon,
      scene: actorScene(ctx, sims, daemon),
      stop: async () => {
        await daemon.stop()
        await Promise.all(sims.map((s) => s.close()))
      },
    }
  } catch (err) {
    await Promise.all(sims.map((s) => s.close()))
    throw err
  }
}
