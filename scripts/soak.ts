/**
 * The soak (issue 13): `npm run soak -- --minutes 30 [--kills N] [--seed N] [--records N]`.
 *
 * The bidirectional kill sweep of test/reliability/kill.test.ts for as long as it is given:
 * Elementum and Elean simulators joined by the example mapping, a database of its own on
 * DATABASE_URL's server; per trial, edits, creates, comments and attachments on both sides,
 * then `elsync sync` is SIGKILLed at a fail-point (every named one first) or at a random
 * moment (every fourth random moment strikes the daemon, `elsync run`, instead), the world is
 * settled and checked. It runs until `--minutes` have passed and at least `--kills` random
 * moments (default 20) struck a running process. One JSON line per trial, then the totals (per
 * kind — record, comment, attachment — acknowledged, lost and duplicated; undelivered, stale,
 * cursor ahead, unsettled) and a check that the check sees damage. Exit 1 when anything was
 * lost, duplicated, undelivered, stale, ahead or unsettled.
 */
import { parseArgs } from 'node:util'
import { readEnv } from '../src/config/env.js'
import { createDatabase, dropDatabase } from '../src/db/admin.js'
import { createDb } from '../src/db/client.js'
import { runMigrations } from '../src/db/migrate.js'
import { createPrng } from '../src/sim/common/prng.js'
import { addUp, createSweep, damaged, emptyTotals, namedStrikes, randomStrike, SWEEP_CONNECTIONS } from '../test/reliability/sweep.js'
import { startBidiWorld } from '../test/support/bidi-world.js'

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    kills: { type: 'string', default: '20' },
    records: { type: 'string', default: '40' },
    seed: { type: 'string', default: String(Date.now() % 100_000) },
    keep: { type: 'boolean', default: false },
  },
})
const SEED = Number(args.seed)
const deadline = Date.now() + Number(args.minutes) * 60_000
const serverUrl = readEnv().databaseUrl
if (!serverUrl) throw new Error('set DATABASE_URL to a Postgres server (the soak creates and drops a database of its own there)')

const dbName = `elsync_soak_${process.pid}`
const url = await createDatabase(serverUrl, dbName, { replace: true })
await runMigrations(url)
const db = createDb(url, { max: 2, applicationName: 'soak' })
const records = Number(args.records)
const world = await startBidiWorld({ sql: db.sql, url }, { seed: SEED, left: records, right: records, connections: SWEEP_CONNECTIONS })
const total = emptyTotals()
try {
  const sweep = createSweep(world, createPrng(SEED))
  const first = await sweep.settle()
  if (first.runs < 0) throw new Error(`the first syncs did not settle:\n${first.last.output.slice(-2000)}`)
  // every fail-point first, then random kills until the time is up and enough have struck (at most 3 draws a kill)
  const plan = namedStrikes()
  const started = Date.now()
  const kills = Number(args.kills)
  for (let n = 1, drawn = 0; Date.now() < deadline || (total.randomKills < kills && drawn < 3 * kills); n++) {
    const line = await sweep.trial(n, plan[n - 1] ?? randomStrike(drawn++))
    addUp(total, line)
    process.stdout.write(`${JSON.stringify(line)}\n`)
  }
  const ms = Date.now() - started
  process.stdout.write(`${JSON.stringify({ total: { seed: SEED, minutes: Number(args.minutes), ms, ...total } })}\n`)
  const selfCheck = await sweep.checkTheCheck()
  process.stdout.write(`${JSON.stringify({ selfCheck })}\n`)
  process.exitCode = damaged(total) || !selfCheck.ok ? 1 : 0
} finally {
  await world.close()
  await db.close()
  if (!args.keep) await dropDatabase(serverUrl, dbName)
  else process.stderr.write(`database kept: ${dbName}\n`)
}
