import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { StartedElean } from '../../src/sim/elean/index.js'
import type { StartedElementum } from '../../src/sim/elementum/index.js'

/**
 * A config dir for spawned `elsync` processes against an Elementum and an Elean simulator:
 * connections.yaml (stream `it-requests` and project `web`, secrets by `${NAME}`) and the
 * environment variables that fill it. `elean` and `elementum` add settings to their connections.
 */
export async function writeSimConfig(
  dir: string,
  sims: { elementum: StartedElementum; elean: StartedElean },
  extra: { elean?: Record<string, string | number>; elementum?: Record<string, string | number> } = {},
): Promise<Record<string, string>> {
  const lines = (o: Record<string, string | number>) => Object.entries(o).map(([k, v]) => `\n    ${k}: ${v}`)
  const eleanExtra = lines({ rateLimit: '{ perMinute: 100000 }', ...extra.elean })
  const elementumExtra = lines(extra.elementum ?? {})
  await writeFile(
    join(dir, 'connections.yaml'),
    `connections:
  elementum:
    kind: elementum
    baseUrl: "${sims.elementum.baseUrl}"
    auth: { mode: oauth2-client-credentials, clientId: "\${EL_ID}", clientSecret: "\${EL_SECRET}" }${elementumExtra.join('')}
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
