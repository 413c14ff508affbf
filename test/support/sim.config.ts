import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { connectionsFileSchema } from '../../src/config/schema.js'
import { eleanSimConnection, elementumSimConnection } from '../../src/sim/connections.js'
import type { StartedElean } from '../../src/sim/elean/index.js'
import type { StartedElementum } from '../../src/sim/elementum/index.js'

/**
 * A config dir for spawned `elsync` processes against an Elementum and an Elean simulator:
 * connections.yaml (stream `it-requests` and project `web`, secrets by `${NAME}`) and the
 * environment variables that fill it. `elean` and `elementum` add settings to those connections.
 */
export async function writeSimConfig(
  dir: string,
  sims: { elementum: StartedElementum; elean: StartedElean },
  extra: { elean?: Record<string, string | number>; elementum?: Record<string, string | number> } = {},
): Promise<Record<string, string>> {
  const lines = (settings: Record<string, string | number> = {}) => Object.entries(settings).map(([k, v]) => `\n    ${k}: ${v}`)
  const eleanExtra = lines({ rateLimit: '{ perMinute: 100000 }', ...extra.elean })
  await writeFile(
    join(dir, 'connections.yaml'),
    `connections:
  elementum:
    kind: elementum
    baseUrl: "${sims.elementum.baseUrl}"
    auth: { mode: oauth2-client-credentials, clientId: "\${EL_ID}", clientSecret: "\${EL_SECRET}" }${lines(extra.elementum).join('')}
    streams:
      it-requests: { recordType: tasks, alias: it-requests }
  elean:
    kind: elean
    baseUrl: "${sims.elean.baseUrl}"
    auth: { mode: bearer, token: "\${ELEAN_KEY}" }${eleanExtra.join('')}
    streams:
      web: { project: web }
`,
  )
  return {
    ELSYNC_CONFIG_DIR: dir,
    EL_ID: sims.elementum.credentials.clientId ?? '',
    EL_SECRET: sims.elementum.credentials.clientSecret ?? '',
    ELEAN_KEY: sims.elean.credentials.apiKey ?? '',
  }
}

/**
 * The same two connections parsed, for tests that build the app in-process: an unlimited Elean
 * key (the 60/min budget has the Elean connector's own tests) and `elean`'s further settings
 * (by default no comment reads per scan: see src/sim/connections.ts).
 */
export function simConnections(sims: { elementum: StartedElementum; elean: StartedElean }, elean: Record<string, unknown> = {}) {
  return connectionsFileSchema.parse({
    connections: { elementum: elementumSimConnection(sims.elementum, ['it-requests']), elean: eleanSimConnection(sims.elean, ['web'], elean) },
  }).connections
}
