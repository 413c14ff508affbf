import { spawn } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { FAILPOINTS, type Failpoint } from '../../src/app.js'
import type { StartedElean } from '../../src/sim/elean/index.js'
import type { StartedElementum } from '../../src/sim/elementum/index.js'
import { createTestDb, type TestDb } from '../support/db.js'
import { startSimPair, titles, writeCount } from '../support/sim.pair.js'
import { until } from '../support/until.js'

/**
 * Issue 9: `elsync sync` is SIGKILLed at each named point (ELSYNC_FAILPOINT) in its first
 * cycle (Elementum ↔ Elean through the example mapping, creates both ways), then run twice
 * more without it. Afterwards every record has exactly one counterpart on the other side,
 * none is lost, and the last run writes nothing to either vendor.
 */

const LEASE_SECONDS = 3

// one world per point, so that a failure at one point cannot hide behind another's
const dbs = new Map<Failpoint, TestDb>()
for (const point of FAILPOINTS) dbs.set(point, await createTestDb())
const dirs: string[] = []
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

interface World {
  db: TestDb
  elementum: StartedElementum
  elean: StartedElean
  env: NodeJS.ProcessEnv
}

async function startWorld(db: TestDb): Promise<World> {
  const { elementum, elean, dir, simEnv } = await startSimPair('elsync-crash-')
  dirs.push(dir)
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'info', ELSYNC_LEASE_SECONDS: String(LEASE_SECONDS), ...simEnv }
  delete env.ELSYNC_FAILPOINT
  return { db, elementum, elean, env }
}

interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
  output: string
}

function elsyncSync(world: World, failpoint?: Failpoint): Promise<Exit> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'sync'], {
    env: failpoint ? { ...world.env, ELSYNC_FAILPOINT: failpoint } : world.env,
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

/**
 * A dead process's leases (streams, mappings, claimed outbox rows) run out on their own one lease
 * after its last heartbeat; until then another run skips what it held. Nothing moves them here:
 * the worlds run with short leases and the test waits for them.
 */
async function leasesRunOut(db: TestDb): Promise<void> {
  await until(
    "the killed run's leases to run out",
    async () => {
      const [held] = await db.sql<{ n: number }[]>`
        select ((select count(*) from elsync.stream_leases where owner is not null and expires_at > now())
              + (select count(*) from elsync.outbox where lease_expires_at > now()))::int as n`
      return held?.n === 0 ? true : undefined
    },
    (LEASE_SECONDS + 5) * 1000,
  )
}

const countOf = (list: string[], title: string) => list.filter((t) => t === title).length

describe('crash safety at the named points (SIGKILL, then sync again)', () => {
  it.each(FAILPOINTS)('%s: nothing duplicated, nothing lost, and the next sync is quiet', { timeout: 170_000 }, async (point) => {
    const world = await startWorld(dbs.get(point)!)
    try {
      const ns = world.elementum.store.namespace('tasks', 'it-requests')!
      const leftInScope = ns.order.map((seq) => ns.bySeq.get(seq)!.data).filter((d) => d.Status !== 'Cancelled')
      const before = titles(world)

      const killed = await elsyncSync(world, point)
      expect(killed.signal, `the run was not killed at ${point}:\n${killed.output.slice(-3000)}`).toBe('SIGKILL')
      await leasesRunOut(world.db)
      const clean = await elsyncSync(world)
      expect(clean.code, clean.output.slice(-3000)).toBe(0)
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
      await Promise.all([world.elementum.close(), world.elean.close()])
    }
  })
})
