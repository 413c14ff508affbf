import type { EnvSettings } from '../../src/config/env.js'
import { type Config, connectionsFileSchema } from '../../src/config/schema.js'
import { startElean } from '../../src/sim/elean/index.js'
import type { TestDb } from './db.js'
import { captureLogs } from './logs.js'

/**
 * An in-process daemon's world: an Elean simulator with 30 tasks in project `web`, its connection
 * `elean` (polled at start-up, its schedule's first tick months away) and with `broken` a second
 * one whose key the simulator refuses, the logs captured, and a daemon's settings on any free port.
 */
export async function eleanDaemonWorld(db: TestDb, o: { logLevel: EnvSettings['logLevel']; broken?: boolean }) {
  const sim = await startElean({ port: 0 })
  sim.store.seed('web', 30, 3)
  const logs = captureLogs([sim.credentials.apiKey!])
  const eleanOn = (token: string | undefined) => ({
    kind: 'elean',
    baseUrl: sim.baseUrl,
    auth: { mode: 'bearer', token },
    poll: '0 0 1 1 *',
    streams: { web: { project: 'web' } },
  })
  const { connections } = connectionsFileSchema.parse({
    connections: { elean: eleanOn(sim.credentials.apiKey), ...(o.broken ? { broken: eleanOn('not-the-key-of-this-simulator') } : {}) },
  })
  const env: EnvSettings = {
    databaseUrl: db.url,
    configDir: '.',
    adminPort: 0,
    logLevel: o.logLevel,
    dataDir: '.elsync',
    adminToken: 'a-long-enough-admin-token',
  }
  const config: Config = { dir: '.', connections, mappings: [] }
  return { sim, logs, env, ctx: { env, config, logger: logs.logger, redactor: logs.redactor } }
}
