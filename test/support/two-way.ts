import { expect } from 'vitest'
import { type App, createApp } from '../../src/app.js'
import type { EnvSettings } from '../../src/config/env.js'
import { type Config, connectionsFileSchema, mappingFileSchema } from '../../src/config/schema.js'
import type { SimStats } from '../../src/sim/common/server.js'
import { eleanSimConnection, elementumSimConnection } from '../../src/sim/connections.js'
import { type StartedElasticio, startElasticio } from '../../src/sim/elasticio/index.js'
import { type StartedElean, startElean } from '../../src/sim/elean/index.js'
import { type StartedElementum, startElementum } from '../../src/sim/elementum/index.js'
import { seedNamespace } from '../../src/sim/elementum/seed.js'
import { createTestDb, type TestDb } from './db.js'
import { type CapturedLogs, captureLogs } from './logs.js'

/**
 * End-to-end worlds of the write side: an Elementum and an Elean simulator (and an elastic.io
 * one on request), connections to them (`elementum` stream `it-requests`, `elean` one stream
 * per project, `elasticio` stream `lookups`), the given mappings and one app over a database of
 * the test file's own. Call once at the top level of a test file.
 */

export interface TwoWayOptions {
  /** The mapping files' contents, as parsed from YAML. */
  mappings: unknown[]
  seed?: number
  /** Elementum records seeded in tasks/it-requests. */
  elementum?: number
  /** Elean tasks seeded per project (each project is a stream of the same name). */
  elean?: Record<string, number>
  /** Start an elastic.io simulator too (no seeded data). */
  elasticio?: boolean
  /** More settings of the Elean connection. */
  eleanConnection?: Record<string, unknown>
  /** More of connections.yaml beside `connections` (e.g. `outbox`). */
  file?: Record<string, unknown>
}

export interface TwoWay {
  db: TestDb
  elementum: StartedElementum
  elean: StartedElean
  elasticio: StartedElasticio | null
  app: App
  logs: CapturedLogs
  config: Config
  /** One `elsync sync`: poll every stream, reconcile, push; fails the test on a poll or reconcile error unless told not to. */
  cycle(opts?: { expectOk?: boolean }): Promise<Cycle>
  /** Write requests (POST, PUT, PATCH, DELETE; tokens and control routes aside) served by both vendors so far. */
  writeCount(): number
  /** Every request served by each vendor so far, by route and status. */
  stats(): { elementum: SimStats; elean: SimStats; elasticio: SimStats | null }
  close(): Promise<void>
}

export type Cycle = {
  polled: Awaited<ReturnType<App['pollPass']>>
  reconciled: Awaited<ReturnType<App['reconcilePass']>>
  pushed: Awaited<ReturnType<App['executor']['drain']>>
}

/** Mapping `it-requests`: Elementum tasks/it-requests ↔ Elean project web, creating both ways, with these fields and options. */
export function elementumToElean(fields: unknown[], options: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'it-requests',
    left: { connection: 'elementum', stream: 'it-requests' },
    right: { connection: 'elean', stream: 'web' },
    create: 'both',
    fields,
    ...options,
  }
}

const WRITE = /^(POST|PUT|PATCH|DELETE) /

/** Write requests a simulator served: POST, PUT, PATCH and DELETE, tokens and control routes aside. */
export function writesServed(s: SimStats): number {
  return Object.entries(s.byRoute)
    .filter(([route]) => WRITE.test(route) && !route.includes('oauth') && !route.includes('/_sim'))
    .reduce((n, [, byStatus]) => n + Object.values(byStatus).reduce((a, b) => a + b, 0), 0)
}

export async function startTwoWay(opts: TwoWayOptions): Promise<TwoWay> {
  const seed = opts.seed ?? 3
  const db = await createTestDb()
  const elementum = await startElementum({ port: 0, seed })
  // unlimited here: the 60/min key is exercised by the Elean connector's own tests
  const elean = await startElean({ port: 0, seed, perMinute: 0 })
  const elasticio = opts.elasticio ? await startElasticio({ port: 0, seed }) : null
  seedNamespace(elementum.store, 'tasks', 'it-requests', opts.elementum ?? 0, seed)
  const projects = opts.elean ?? { web: 0 }
  for (const [project, count] of Object.entries(projects)) {
    elean.store.ensureProject(project)
    if (count > 0) elean.store.seed(project, count, seed)
  }

  const logs = captureLogs([elean.credentials.apiKey!, elementum.credentials.clientSecret!, ...(elasticio ? [elasticio.credentials.apiKey!] : [])])
  const file = connectionsFileSchema.parse({
    ...opts.file,
    connections: {
      elementum: elementumSimConnection(elementum, ['it-requests']),
      elean: eleanSimConnection(elean, Object.keys(projects), opts.eleanConnection),
      ...(elasticio && {
        elasticio: {
          kind: 'elasticio',
          baseUrl: elasticio.baseUrl,
          auth: { mode: 'basic', username: elasticio.credentials.email, password: elasticio.credentials.apiKey },
          streams: {},
        },
      }),
    },
  })
  const mappings = opts.mappings.map((m) => mappingFileSchema.parse(m))
  const { connections, ...rest } = file
  const config: Config = { dir: '.', connections, mappings, ...rest }
  const env: EnvSettings = { databaseUrl: db.url, configDir: '.', adminPort: 0, logLevel: 'debug', dataDir: '.elsync' }
  const app = createApp({ env, config, logger: logs.logger, redactor: logs.redactor }, { db })

  return {
    db,
    elementum,
    elean,
    elasticio,
    app,
    logs,
    config,
    async cycle({ expectOk = true } = {}) {
      const signal = AbortSignal.timeout(120_000)
      const polled = await app.pollPass({ mode: 'incremental', signal })
      const reconciled = await app.reconcilePass({ signal })
      if (expectOk) {
        for (const r of polled) expect(r.status, `${r.stream.connection}: ${JSON.stringify(r.error)}`).toBe('succeeded')
        for (const r of reconciled) expect(r.error, JSON.stringify(r.error)).toBeNull()
      }
      const pushed = await app.executor.drain(signal)
      return { polled, reconciled, pushed }
    },
    writeCount: () => writesServed(elementum.server.stats()) + writesServed(elean.server.stats()),
    stats: () => ({ elementum: elementum.server.stats(), elean: elean.server.stats(), elasticio: elasticio?.server.stats() ?? null }),
    close: async () => {
      await Promise.all([elementum.close(), elean.close(), elasticio?.close()])
    },
  }
}
