import { readFile } from 'node:fs/promises'
import { parse as parseYaml } from 'yaml'
import { type App, createApp } from '../../src/app.js'
import type { EnvSettings } from '../../src/config/env.js'
import { type Config, mappingFileSchema } from '../../src/config/schema.js'
import type { StartedElean } from '../../src/sim/elean/index.js'
import type { StartedElementum } from '../../src/sim/elementum/index.js'
import type { DbHandle } from '../../src/db/client.js'
import type { CapturedLogs } from './logs.js'
import { simConnections } from './sync.world.js'

/**
 * The app of the example mapping (mappings/it-requests.mapping.yaml): Elementum's `it-requests`
 * tasks ↔ Elean's project `web`, over the two simulators, Elean unlimited (its 60/min key is
 * exercised by the Elean connector's own tests) and without comment polling.
 */
export async function createExampleApp(opts: {
  db: DbHandle & { url: string }
  elementum: StartedElementum
  elean: StartedElean
  logs: CapturedLogs
}): Promise<App> {
  const { elementum, elean } = opts
  const connections = simConnections({ elementum, elean }, { commentsPerScan: 0 })
  const mapping = mappingFileSchema.parse(parseYaml(await readFile('mappings/it-requests.mapping.yaml', 'utf8')))
  const config: Config = { dir: '.', connections, mappings: [mapping] }
  const env: EnvSettings = { databaseUrl: opts.db.url, configDir: '.', adminPort: 0, logLevel: 'debug', dataDir: '.elsync' }
  return createApp({ env, config, logger: opts.logs.logger, redactor: opts.logs.redactor }, { db: opts.db })
}
