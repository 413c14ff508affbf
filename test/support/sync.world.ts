import { connectionsFileSchema } from '../../src/config/schema.js'
import type { Failpoint } from '../../src/app.js'
import type { StartedElean } from '../../src/sim/elean/index.js'
import type { StartedElementum } from '../../src/sim/elementum/index.js'
import { type Exit, elsyncSync as spawnSync } from './bidi-world.js'
import { vendorWrites } from './sync-cycle.js'

/**
 * What the end-to-end tests of Elementum ↔ Elean share: the two connections over the
 * simulators, the writes the vendors served, and `elsync sync` as a child process.
 */

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

/** `elsync sync` in a child process; with `failpoint`, ELSYNC_FAILPOINT kills it there. A hung run is stopped after 90 s. */
export const elsyncSync = (env: NodeJS.ProcessEnv, failpoint?: Failpoint): Promise<Exit> => spawnSync({ env }, failpoint ? { failpoint } : {})
