import type { Failpoint } from '../../src/app.js'
import type { StartedElean } from '../../src/sim/elean/index.js'
import type { StartedElementum } from '../../src/sim/elementum/index.js'
import { DYING_RUN_ENV, type Exit, elsyncSync as spawnSync } from './bidi-world.js'
import { simConnections as parsedSimConnections } from './sim.config.js'
import { vendorWrites } from './sync-cycle.js'

/**
 * What the end-to-end tests of Elementum ↔ Elean share: the two connections over the
 * simulators, the writes the vendors served, and `elsync sync` as a child process.
 */

/** Writes both simulators served so far. */
export const writesServed = (sims: { elementum: StartedElementum; elean: StartedElean }): number =>
  vendorWrites(sims.elementum.server.stats()) + vendorWrites(sims.elean.server.stats())

/** Connections `elementum` (stream `it-requests`) and `elean` (project `web`, unlimited rate) over the simulators; `elean` adds settings. */
export const simConnections = (sims: { elementum: StartedElementum; elean: StartedElean }, elean: Record<string, unknown> = {}) =>
  parsedSimConnections(sims, elean)

/** `elsync sync` in a child process; with `failpoint`, ELSYNC_FAILPOINT kills it there. A hung run is stopped after 90 s. */
export const elsyncSync = (env: NodeJS.ProcessEnv, failpoint?: Failpoint, args: readonly string[] = []): Promise<Exit> =>
  // a run armed to die holds short leases: the next sync waits them out and takes its work over
  spawnSync({ env }, { ...(failpoint ? { failpoint, env: DYING_RUN_ENV } : {}), args })
