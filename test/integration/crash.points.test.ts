import { describe, expect, it } from 'vitest'
import { FAILPOINTS, type Failpoint } from '../../src/app.js'
import { elsyncSync, startBidiWorld, titles, writeCount } from '../support/bidi-world.js'
import { createTestDb, type TestDb } from '../support/db.js'

/**
 * Issue 9: `elsync sync` is SIGKILLed at each named point (ELSYNC_FAILPOINT) in its first
 * cycle (Elementum ↔ Elean through the example mapping, creates both ways), then run twice
 * more without it. Afterwards every record has exactly one counterpart on the other side,
 * none is lost, and the last run writes nothing to either vendor. The killed run holds short
 * leases (ELSYNC_LEASE_SECONDS=2): the next sync waits for the dead run's stream, mapping and
 * outbox leases to run out and takes its work over, as it would after any crash.
 */

// one world per point, so that a failure at one point cannot hide behind another's
const dbs = new Map<Failpoint, TestDb>()
for (const point of FAILPOINTS) dbs.set(point, await createTestDb())
const countOf = (list: string[], title: string) => list.filter((t) => t === title).length

describe('crash safety at the named points (SIGKILL, then sync again)', () => {
  it.each(FAILPOINTS)('%s: nothing duplicated, nothing lost, and the next sync is quiet', { timeout: 170_000 }, async (point) => {
    const world = await startBidiWorld(dbs.get(point)!)
    try {
      const ns = world.elementum.store.namespace('tasks', 'it-requests')!
      const leftInScope = ns.order.map((seq) => ns.bySeq.get(seq)!.data).filter((d) => d.Status !== 'Cancelled')
      const before = titles(world)

      const killed = await elsyncSync(world, { failpoint: point, env: { ELSYNC_LEASE_SECONDS: '2' } })
      expect(killed.signal, `the run was not killed at ${point}:\n${killed.output.slice(-3000)}`).toBe('SIGKILL')
      const clean = await elsyncSync(world)
      expect(clean.code, clean.output.slice(-3000)).toBe(0)
      expect(clean.output).not.toMatch(/^skipped |still held/m)
      const settled = writeCount(world)
      const quiet = await elsyncSync(world)
      expect(quiet.code, quiet.output.slice(-3000)).toBe(0)
      expect(writeCount(world) - settled, `the last sync wrote:\n${quiet.output.slice(-3000)}`).toBe(0)

      // every record of either side exists exactly once on the other (and still once on its own)
      const after = titles(world)
      expect(after.left.length).toBe(before.left.length + before.right.length)
      expect(after.right.length).toBe(before.right.length + leftInScope.length)
      for (const t of leftInScope.map((d) => d.Title!.trim())) expect([t, countOf(after.left, t), countOf(after.right, t)]).toEqual([t, 1, 1])
      for (const t of before.right) expect([t, countOf(after.right, t), countOf(after.left, t)]).toEqual([t, 1, 1])

      // and the mirror links each pair once, with nothing left half-created or undelivered
      const [links] = await world.db.sql<{ n: number; open: number; lefts: number; rights: number }[]>`
        select count(*)::int as n, count(*) filter (where left_remote_id is null or right_remote_id is null)::int as open,
          count(distinct left_remote_id)::int as lefts, count(distinct right_remote_id)::int as rights
        from elsync.links where mapping_id = 'it-requests'`
      const expected = leftInScope.length + before.right.length
      expect(links).toEqual({ n: expected, open: 0, lefts: expected, rights: expected })
      const [outbox] = await world.db.sql<{ unsent: number }[]>`select count(*)::int as unsent from elsync.outbox where state <> 'sent'`
      expect(outbox?.unsent).toBe(0)
    } finally {
      await world.close()
    }
  })
})
