import { spawn } from 'node:child_process'
import { connectionsFileSchema } from '../../src/config/schema.js'
import type { SimStats } from '../../src/sim/common/server.js'
import type { StartedElean } from '../../src/sim/elean/index.js'
import type { StartedElementum } from '../../src/sim/elementum/index.js'

/**
 * What the end-to-end tests of Elementum ↔ Elean share: the two connections over the
 * simulators, the writes the vendors served, and `elsync sync` as a child process.
 */

const WRITE = /^(POST|PUT|PATCH|DELETE) /

/** Writes a simulator served (token and `/_sim` requests left out). */
export const vendorWrites = (s: SimStats): number =>
  Object.entries(s.byRoute)
    .filter(([route]) => WRITE.test(route) && !route.includes('oauth') && !route.includes('/_sim'))
    .reduce((n, [, byStatus]) => n + Object.values(byStatus).reduce((a, b) => a + b, 0), 0)

/** Writes both simulators served so far. */
export const writesServed = (sims: { elementum: StartedElementum; elean: StartedElean }): number =>
  vendorWrites(sims.elementum.server.stats()) + vendorWrites(sims.elean.server.stats())

/** Connections `elementum` (stream `it-requests`) and `elean` (project `web`, unlimited rate) over the simulators; `elean` adds settings. */
export function simConnections(sims: { elementum: StartedElementum; elean: StartedElean }, elean: Record<string, unknown> = {}) {
  return connectionsFileSchema.parse({
    connections: {
      elementum: {
        kind: 'elementum',
        baseUrl: sims.elementum.baseUrl,
        auth: { mode: 'oauth2-client-credentials', clientId: sims.elementum.credentials.clientId, clientSecret: sims.elementum.credentials.clientSecret },
        streams: { 'it-requests': { recordType: 'tasks', alias: 'it-requests' } },
      },
      elean: {
        kind: 'elean',
        baseUrl: sims.elean.baseUrl,
        auth: { mode: 'bearer', token: sims.elean.credentials.apiKey },
        rateLimit: { perMinute: 100_000 },
        ...elean,
        streams: { web: { project: 'web' } },
      },
    },
  }).connections
}

export interface SyncExit {
  code: number | null
  signal: NodeJS.Signals | null
  output: string
}

/** `elsync sync` in a child process; with `failpoint`, ELSYNC_FAILPOINT kills it there. A hung run is stopped after 90 s. */
export function elsyncSync(env: NodeJS.ProcessEnv, failpoint?: string): Promise<SyncExit> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'sync'], {
    env: failpoint ? { ...env, ELSYNC_FAILPOINT: failpoint } : env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (b: Buffer) => (output += b.toString()))
  child.stderr.on('data', (b: Buffer) => (output += b.toString()))
  // a hung run must fail the test, not the file's timeout
  const guard = setTimeout(() => child.kill('SIGTERM'), 90_000)
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(guard)
      resolve({ code, signal, output })
    })
  })
}
