import { afterAll, describe, expect, it } from 'vitest'
import { createPrng } from '../../src/sim/common/prng.js'
import { startBidiWorld } from '../support/bidi-world.js'
import { createTestDb } from '../support/db.js'
import { addUp, createSweep, strikes, type SweepTotals } from './sweep.js'

/**
 * The bounded kill sweep of `npm test` (the soak, `npm run soak`, runs the same trials for as
 * long as it is given): with edits and creates on both sides between trials, `elsync sync` is
 * SIGKILLed at every named fail-point and at random moments; after settling, nothing
 * acknowledged is lost, nothing is duplicated, nothing is left undelivered.
 */

const RANDOM_KILLS = Number(process.env.SWEEP_RANDOM_KILLS ?? 4)
const SEED = Number(process.env.SWEEP_SEED ?? 1234)

const db = await createTestDb()
const world = await startBidiWorld(db, { seed: SEED, left: 12, right: 10 })
afterAll(() => world.close())

describe('kill sweep, bidirectional (Elementum ↔ Elean)', () => {
  it('loses nothing, duplicates nothing and leaves nothing undelivered across kills at every fail-point and at random', { timeout: 540_000 }, async () => {
    const sweep = createSweep(world, createPrng(SEED))
    const first = await sweep.settle()
    expect(first.runs, first.last.output.slice(-2000)).toBeGreaterThan(0)
    const total: SweepTotals = { trials: 0, killed: 0, lost: 0, duplicated: 0, undelivered: 0, stale: 0, unsettled: 0 }
    const lines = []
    for (const [i, strike] of strikes(RANDOM_KILLS).entries()) {
      const line = await sweep.trial(i + 1, strike)
      lines.push(line)
      addUp(total, line)
    }
    const report = JSON.stringify(lines, null, 1)
    if (process.env.SWEEP_VERBOSE) process.stdout.write(`${report}\n`)
    // every fail-point was reached: a point the trial never struck proves nothing
    expect(
      lines.filter((l) => l.strike !== 'random-kill' && !l.killed),
      report,
    ).toEqual([])
    const { lost, duplicated, undelivered, stale, unsettled } = total
    expect({ lost, duplicated, undelivered, stale, unsettled }, report).toEqual({ lost: 0, duplicated: 0, undelivered: 0, stale: 0, unsettled: 0 })
    expect(lines.reduce((n, l) => n + l.acks, 0)).toBeGreaterThan(lines.length)
    // and the check itself sees damage done by hand
    const self = await sweep.checkTheCheck()
    expect(self, report).toMatchObject({ ok: true })
  })
})
