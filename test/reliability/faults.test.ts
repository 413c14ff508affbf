import { afterAll, describe, expect, it } from 'vitest'
import type { Fault } from '../../src/sim/common/faults.js'
import { createPrng } from '../../src/sim/common/prng.js'
import { DYING_RUN_ENV, elsyncSync, startBidiWorld } from '../support/bidi-world.js'
import { createTestDb } from '../support/db.js'
import { startPgProxy } from '../support/pg-proxy.js'
import { until } from '../support/until.js'
import { createSweep, SWEEP_CONNECTIONS } from './sweep.js'

/**
 * Faults of every kind at once, with traffic both ways (issue 13): about 10 % of vendor
 * requests answer 500, 429 storms, hangs past the client timeout, truncated bodies, HTML pages
 * with 200, malformed JSON, paging drift, clocks skewed ±10 min; the Postgres backends are
 * terminated mid-run and the database refuses connections for a while. After the faults are
 * lifted and the world has settled, it is in the state a run without faults leaves: every
 * acknowledged write (record, comment, attachment) on both sides once, nothing undelivered,
 * the mirror equal to the vendors.
 */

const SEED = Number(process.env.FAULTS_SEED ?? 77)
const ROUNDS = 2

const db = await createTestDb()
// a short client timeout, so that a hang costs seconds, not a minute; every poll reads every record's children (see SWEEP_CONNECTIONS)
const connections = { elementum: { ...SWEEP_CONNECTIONS.elementum, timeoutMs: 2000 }, elean: { ...SWEEP_CONNECTIONS.elean, timeoutMs: 2000 } }
const world = await startBidiWorld(db, { seed: SEED, left: 12, right: 10, connections })
const proxy = await startPgProxy(db.url)
afterAll(async () => {
  await proxy.close()
  await world.close()
})

/** The mixture of vendor faults armed for one round (each sim gets its own). */
function faults(prng: ReturnType<typeof createPrng>): Fault[] {
  return [
    { kind: 'status', status: 500, count: 10_000, every: 10 },
    { kind: 'status', status: 503, count: 2 },
    { kind: 'rate-limit', count: 4, retryAfterSeconds: 1 },
    { kind: 'hang', count: 1, hangMs: 6_000 },
    { kind: 'truncate', count: prng.int(1, 3) },
    { kind: 'html', count: 1 },
    { kind: 'malformed-json', count: 1 },
  ]
}

describe('faults everywhere, traffic both ways', () => {
  it('ends in the state of a run without faults', { timeout: 540_000 }, async () => {
    const prng = createPrng(SEED)
    const sweep = createSweep(world, prng)
    const first = await sweep.settle()
    expect(first.runs, first.last.output.slice(-2000)).toBeGreaterThan(0)
    // runs that may die leave 2 s leases behind, which the settling runs take over
    const viaProxy = { DATABASE_URL: proxy.url, ...DYING_RUN_ENV }
    const faulty: { code: number | null; signal: string | null }[] = []
    for (let round = 1; round <= ROUNDS; round++) {
      await sweep.person()
      for (const sim of [world.elementum, world.elean]) for (const f of faults(prng)) sim.server.faults.arm(f)
      world.elean.server.faults.arm({ kind: 'drift', count: 1, insert: 1, delete: 0 })
      world.elementum.server.faults.skewMs = 600_000
      world.elean.server.faults.skewMs = -600_000

      // one run whose database connections are terminated once it has some, one that loses the database for a while
      const terminated = elsyncSync(world, { env: viaProxy, guardMs: 240_000 })
      await until(
        'elsync connected to the database',
        async () =>
          (await db.sql`select 1 from pg_stat_activity where datname = ${db.name} and application_name like 'elsync%' and application_name <> 'elsync-test'`)
            .length > 0
            ? true
            : undefined,
        60_000,
      )
      await db.sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${db.name} and application_name like 'elsync%' and application_name <> 'elsync-test'`
      faulty.push(await terminated)
      const before = proxy.accepted()
      const cut = elsyncSync(world, { env: viaProxy, guardMs: 240_000 })
      await until('elsync connected through the proxy', () => (proxy.accepted() > before ? true : undefined), 60_000)
      await proxy.down()
      // the outage itself lasts a while: this is the fault, not a wait for a condition
      await new Promise((r) => setTimeout(r, 1500))
      await proxy.up()
      faulty.push(await cut)

      // the faults lifted, the world settles
      for (const sim of [world.elementum, world.elean]) {
        sim.server.faults.clear()
        sim.server.faults.skewMs = 0
      }
      const settled = await sweep.settle(5)
      expect(settled.runs, `round ${round} did not settle:\n${settled.last.output.slice(-3000)}`).toBeGreaterThan(0)
    }
    const found = await sweep.check()
    const report = JSON.stringify({ faulty, ...found }, null, 1)
    expect({ lost: found.lost.flat(), duplicated: found.duplicated.flat(), undelivered: found.undelivered, stale: found.stale }, report).toEqual({
      lost: [],
      duplicated: [],
      undelivered: 0,
      stale: [],
    })
    // the faults were felt: no faulty run hung, and the simulators answered with them
    expect(
      faulty.every((f) => f.signal === null),
      report,
    ).toBe(true)
  })
})
