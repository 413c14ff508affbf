import { afterAll, describe, expect, it } from 'vitest'
import { createPrng } from '../../src/sim/common/prng.js'
import { startBidiWorld } from '../support/bidi-world.js'
import { createTestDb } from '../support/db.js'
import { addUp, createSweep, damaged, emptyTotals, isRandom, namedStrikes, randomStrike, SWEEP_CONNECTIONS, type TrialLine } from './sweep.js'

/**
 * The bounded kill sweep of `npm test` (the soak, `npm run soak`, runs the same trials for as
 * long as it is given): with edits, creates, comments and attachments on both sides between
 * trials, `elsync sync` is SIGKILLed at every named fail-point (the push points also right
 * after a comment and an attachment reached either vendor) and at random moments, and every
 * fourth random moment strikes the daemon (`elsync run`) instead; after
 * settling, per kind nothing acknowledged is lost, nothing is duplicated, nothing is left
 * undelivered, and no cursor was ever ahead of the saved data.
 */

/** Random moments that must strike a running sync (a moment after the sync ended is drawn again, up to as many times). */
const RANDOM_KILLS = Number(process.env.SWEEP_RANDOM_KILLS ?? 20)
const SEED = Number(process.env.SWEEP_SEED ?? 1234)

const db = await createTestDb()
const world = await startBidiWorld(db, { seed: SEED, left: 12, right: 10, connections: SWEEP_CONNECTIONS })
afterAll(() => world.close())

describe('kill sweep, bidirectional (Elementum ↔ Elean), records, comments and attachments', () => {
  it('loses nothing, duplicates nothing and leaves nothing undelivered across kills at every fail-point and at random', { timeout: 540_000 }, async () => {
    const sweep = createSweep(world, createPrng(SEED))
    const first = await sweep.settle()
    expect(first.runs, first.last.output.slice(-2000)).toBeGreaterThan(0)
    const total = emptyTotals()
    const lines: TrialLine[] = []
    const run = async (strike: TrialLine['strike']) => {
      const line = await sweep.trial(lines.length + 1, strike)
      lines.push(line)
      addUp(total, line)
    }
    for (const strike of namedStrikes()) await run(strike)
    for (let drawn = 0; total.randomKills < RANDOM_KILLS && drawn < 2 * RANDOM_KILLS; drawn++) await run(randomStrike(drawn))
    const report = JSON.stringify(lines, null, 1)
    if (process.env.SWEEP_VERBOSE) process.stdout.write(`${report}\n${JSON.stringify({ total })}\n`)
    // every fail-point was reached: a point the trial never struck proves nothing
    expect(
      lines.filter((l) => !isRandom(l.strike) && !l.killed),
      report,
    ).toEqual([])
    expect(damaged(total), `${JSON.stringify(total)}\n${report}`).toBe(false)
    // traffic of every kind flowed, and random kills struck running syncs
    for (const kind of ['record', 'comment', 'attachment'] as const) expect(total.acks[kind], kind).toBeGreaterThan(lines.length / 2)
    expect(total.randomKills, report).toBe(RANDOM_KILLS)
    expect(total.daemonKills, report).toBeGreaterThan(0)
    // and the check itself sees damage done by hand: a lost and a duplicated record, comment and attachment, a cursor ahead
    const self = await sweep.checkTheCheck()
    expect(self, report).toMatchObject({ ok: true })
  })
})
