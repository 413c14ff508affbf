/**
 * Kill/terminate sweep of the read side (issue 8): `npx tsx scripts/kill-sweep.ts --trials N`.
 *
 * Elementum and Elean simulators with a few hundred records each, a database of its own on
 * DATABASE_URL's server, and a config dir without mappings (poll and mirror only). Per trial:
 * some edits on both simulators, then `elsync sync` is either SIGKILLed or has every one of its
 * database connections terminated (pg_terminate_backend) at a random moment; then a clean
 * `elsync sync`, and the mirror is compared with the simulators:
 *   lost        a simulator record the mirror lacks (or holds as deleted)
 *   stale       a mirrored record whose title, status or updated time differs from the simulator's,
 *               or one the simulator deleted that the mirror still holds live
 *   duplicated  two mirror rows for one remote id (the unique key forbids it), or two history
 *               rows of one record with the same version
 *   versionGaps a record whose version is not its latest history row's
 * One JSON line per trial, then a total. Exit 1 when anything was lost, duplicated or stale.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { readEnv } from '../src/config/env.js'
import { createDatabase, dropDatabase } from '../src/db/admin.js'
import { createDb } from '../src/db/client.js'
import { runMigrations } from '../src/db/migrate.js'
import { createPrng, type Prng } from '../src/sim/common/prng.js'
import { startElean } from '../src/sim/elean/index.js'
import { statusOf } from '../src/sim/elean/model.js'
import { seedNamespace, startElementum } from '../src/sim/elementum/index.js'
import { writeSimConfig } from '../test/support/sim.config.js'

const { values: args } = parseArgs({
  options: {
    trials: { type: 'string', default: '20' },
    records: { type: 'string', default: '300' },
    seed: { type: 'string', default: String(Date.now() % 100_000) },
    keep: { type: 'boolean', default: false },
  },
})
const TRIALS = Number(args.trials)
const RECORDS = Number(args.records)
const SEED = Number(args.seed)
const serverUrl = readEnv().databaseUrl
if (!serverUrl) throw new Error('set DATABASE_URL to a Postgres server (the sweep creates and drops a database of its own there)')

const prng = createPrng(SEED)
const dbName = `elsync_sweep_${process.pid}`
const url = await createDatabase(serverUrl, dbName, { replace: true })
await runMigrations(url)
// not 'elsync…': the terminations must spare this connection
const db = createDb(url, { max: 2, applicationName: 'kill-sweep' })
const elementum = await startElementum({ port: 0, seed: SEED })
const elean = await startElean({ port: 0, seed: SEED, perMinute: 0 })
seedNamespace(elementum.store, 'tasks', 'it-requests', RECORDS, SEED)
elean.store.seed('web', RECORDS, SEED, 0)
const dir = await mkdtemp(join(tmpdir(), 'elsync-sweep-'))
// one complete scan that misses a task marks it deleted, so a deletion shows after one clean sync
const simEnv = await writeSimConfig(dir, { elementum, elean }, { elean: { deleteAfterMissedScans: 1 } })
const childEnv: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn', ...simEnv }
delete childEnv.ELSYNC_FAILPOINT

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  ms: number
  /** ms from spawn to the first progress line (the first page), null when there was none. */
  firstPageMs: number | null
  output: string
  /** What happened at the trial's moment: the process was killed, its connections terminated, or it had already ended. */
  struck?: 'killed' | 'terminated' | 'ended-before'
  /** Progress lines (pages written) printed before the strike. */
  pagesBefore?: number
  terminated?: number
}

/** One `elsync sync`; `strike` runs once, `atMs` after spawn, unless the process ended first. */
function sync(strike?: { atMs: number; how: 'kill' | 'terminate' }): Promise<Run> {
  const started = Date.now()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'sync'], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] })
  const run: Run = { code: null, signal: null, ms: 0, firstPageMs: null, output: '' }
  child.stdout.on('data', (b: Buffer) => {
    if (run.firstPageMs === null && / page \d+: /.test(b.toString())) run.firstPageMs = Date.now() - started
    run.output += b.toString()
  })
  child.stderr.on('data', (b: Buffer) => (run.output += b.toString()))
  let ended = false
  const timer = strike
    ? setTimeout(async () => {
        if (ended) return
        run.pagesBefore = (run.output.match(/ page \d+: /g) ?? []).length
        if (strike.how === 'kill') {
          child.kill('SIGKILL')
          run.struck = 'killed'
          return
        }
        const [r] = await db.sql<{ n: number }[]>`
          select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
          where datname = ${dbName} and application_name like 'elsync%' and pid <> pg_backend_pid()`
        run.terminated = r?.n ?? 0
        run.struck = run.terminated > 0 ? 'terminated' : 'ended-before'
      }, strike.atMs)
    : undefined
  // a run that hangs after its connections were terminated is a finding too: it is killed after 3 minutes and shows as such
  const guard = setTimeout(() => child.kill('SIGKILL'), 180_000)
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      ended = true
      clearTimeout(timer)
      clearTimeout(guard)
      if (strike && !run.struck) run.struck = 'ended-before'
      resolve({ ...run, code, signal, ms: Date.now() - started })
    })
  })
}

/** Human-like activity between trials: edits on both sides, a few new records, a few Elean deletions. */
function edit(p: Prng): { edited: number; inserted: number; deleted: number } {
  const ns = elementum.store.namespace('tasks', 'it-requests')
  const project = elean.store.project('web')
  if (!ns || !project) throw new Error('the simulators lost their namespace')
  let edited = 0
  for (let i = p.int(Math.ceil(RECORDS / 20), Math.ceil(RECORDS / 2)); i > 0; i--) {
    const record = ns.bySeq.get(p.pick(ns.order))
    if (record && elementum.store.update(record, { Title: `${record.data.Title?.replace(/ \(edit \d+\)$/, '')} (edit ${p.int(1, 9999)})` })) edited++
  }
  for (let i = p.int(Math.ceil(RECORDS / 20), Math.ceil(RECORDS / 2)); i > 0; i--) {
    const task = p.pick(project.topLevel)
    if (elean.store.editTask(task, { title: `${task.title.replace(/ \(edit \d+\)$/, '')} (edit ${p.int(1, 9999)})` }, 'if-changed')) edited++
  }
  const inserted = p.int(0, 10)
  for (let i = 0; i < inserted; i++) {
    elementum.store.create(ns, { Title: `Sweep record ${p.hex(6)}`, Status: 'Open' })
    elean.store.createTask(project, { title: `Sweep task ${p.hex(6)}` })
  }
  const deleted = p.int(0, 2)
  for (let i = 0; i < deleted; i++) elean.store.deleteTask(project, p.pick(project.topLevel))
  return { edited, inserted: inserted * 2, deleted }
}

interface Expected {
  connection: string
  remoteId: string
  title: string
  status: string | null
  updatedMs: number
}

function simulatorRecords(): Expected[] {
  const ns = elementum.store.namespace('tasks', 'it-requests')
  const project = elean.store.project('web')
  if (!ns || !project) throw new Error('the simulators lost their namespace')
  const left = ns.order.flatMap((seq) => {
    const d = ns.bySeq.get(seq)?.data
    if (!d?.id) return []
    return [{ connection: 'elementum', remoteId: d.id, title: d.Title ?? '', status: d.Status ?? null, updatedMs: Date.parse(d['Updated on'] ?? '') }]
  })
  const right = project.topLevel.map((t) => ({
    connection: 'elean',
    remoteId: t.id,
    title: t.title,
    status: statusOf(project, t)?.name ?? null,
    updatedMs: t.updatedAt,
  }))
  return [...left, ...right]
}

/** The mirror against the simulators, after a clean sync. */
async function compare() {
  const rows = await db.sql<{ connection: string; remote_id: string; title: string | null; status: string | null; updated: string | null; deleted: boolean }[]>`
    select connection, remote_id, title, status, round(extract(epoch from remote_updated_at) * 1000)::bigint as updated, deleted_at is not null as deleted from elsync.records`
  const mirror = new Map(rows.map((r) => [`${r.connection}/${r.remote_id}`, r]))
  const expected = simulatorRecords()
  const live = new Set(expected.map((e) => `${e.connection}/${e.remoteId}`))
  const lost: string[] = []
  const stale: string[] = []
  for (const e of expected) {
    const m = mirror.get(`${e.connection}/${e.remoteId}`)
    if (!m || m.deleted) lost.push(`${e.connection}/${e.remoteId}`)
    else if (m.title !== e.title || m.status !== e.status || Number(m.updated) !== e.updatedMs) stale.push(`${e.connection}/${e.remoteId}`)
  }
  for (const r of rows) if (!r.deleted && !live.has(`${r.connection}/${r.remote_id}`)) stale.push(`${r.connection}/${r.remote_id} (deleted at the vendor)`)
  const [dup] = await db.sql<{ rows: number; history: number; gaps: number }[]>`
    select
      (select count(*)::int from (select 1 from elsync.records group by connection, stream, remote_id having count(*) > 1) d) as rows,
      (select count(*)::int from (select 1 from elsync.record_changes group by record_id, version having count(*) > 1) h) as history,
      (select count(*)::int from elsync.records r
        where r.version is distinct from (select max(c.version) from elsync.record_changes c where c.record_id = r.id)) as gaps`
  return { expected: expected.length, lost, stale, duplicated: (dup?.rows ?? 0) + (dup?.history ?? 0), versionGaps: dup?.gaps ?? 0 }
}

/** A dead process's leases outlive it by their TTL (30 s); the sweep does not wait for that. */
async function leasesLeft(): Promise<number> {
  const held = await db.sql`update elsync.stream_leases set expires_at = now() where expires_at > now() and owner is not null returning 1`
  return held.length
}

/**
 * The comparison can fail: the mirror is damaged on purpose (one record marked deleted, one
 * title changed, one version moved) and each damage must be counted. Two history rows of one
 * version, or two rows of one remote id, must be refused by the unique indexes.
 */
async function checkTheCheck() {
  await db.sql`update elsync.records set deleted_at = now() where id = (select min(id) from elsync.records where connection = 'elean' and deleted_at is null)`
  await db.sql`update elsync.records set title = title || ' (damaged)' where id = (select min(id) from elsync.records where connection = 'elementum')`
  await db.sql`update elsync.records set version = version + 1 where id = (select max(id) from elsync.records where connection = 'elementum')`
  const refused = async (insert: Promise<unknown>) =>
    insert.then(
      () => false,
      (err: { code?: string }) => err.code === '23505',
    )
  const historyRefused = await refused(db.sql`
    insert into elsync.record_changes (record_id, connection, stream, remote_id, version, op, changed, source)
    select record_id, connection, stream, remote_id, version, op, changed, source from elsync.record_changes order by id limit 1`)
  const rowRefused = await refused(db.sql`
    insert into elsync.records (connection, stream, remote_id, snapshot, document, content_hash, version)
    select connection, stream, remote_id, snapshot, document, content_hash, version from elsync.records order by id limit 1`)
  const found = await compare()
  const counted = { lost: found.lost.length, stale: found.stale.length, versionGaps: found.versionGaps, historyRefused, rowRefused }
  return { ...counted, ok: counted.lost === 1 && counted.stale === 1 && counted.versionGaps === 1 && historyRefused && rowRefused }
}

const total = { trials: 0, killed: 0, terminated: 0, endedBefore: 0, lost: 0, duplicated: 0, stale: 0, versionGaps: 0, cleanFailures: 0, leasesLeft: 0 }
try {
  const first = await sync()
  if (first.code !== 0) throw new Error(`the first sync failed:\n${first.output}`)
  // the window a strike falls in: a sync after a round of edits, measured once here, then by every struck sync that ended first
  edit(prng)
  let window = await sync()
  if (window.code !== 0) throw new Error(`the calibration sync failed:\n${window.output}`)
  for (let trial = 1; trial <= TRIALS; trial++) {
    const edits = edit(prng)
    const how = prng.next() < 0.5 ? 'kill' : 'terminate'
    // a moment from a little before the first page of a sync like the last clean one to a little after its end
    // (before that the process is starting Node and reading its config, and has not touched the database)
    const lo = 0.85 * (window.firstPageMs ?? 0)
    const atMs = Math.round(lo + prng.next() * (1.05 * window.ms - lo))
    const struck = await sync({ atMs, how })
    const left = await leasesLeft()
    if (struck.struck === 'ended-before' && struck.code === 0) window = struck
    const clean = await sync()
    const found = await compare()
    const line = {
      trial,
      how,
      atMs,
      // pages the struck run had reported written when it was struck
      pagesBefore: struck.pagesBefore ?? null,
      struck: struck.struck,
      ...(struck.terminated !== undefined && { connectionsTerminated: struck.terminated }),
      exit: struck.signal ?? struck.code,
      leasesLeft: left,
      clean: clean.code,
      ...edits,
      records: found.expected,
      lost: found.lost.length,
      duplicated: found.duplicated,
      stale: found.stale.length,
      versionGaps: found.versionGaps,
      ...(found.lost.length + found.stale.length > 0 && { examples: [...found.lost, ...found.stale].slice(0, 5) }),
      ...(struck.code !== 0 && struck.code !== null && { struckOutput: struck.output.slice(-1500) }),
      ...(clean.code !== 0 && { cleanOutput: clean.output.slice(-1500) }),
    }
    process.stdout.write(`${JSON.stringify(line)}\n`)
    total.trials++
    if (struck.struck === 'killed') total.killed++
    else if (struck.struck === 'terminated') total.terminated++
    else total.endedBefore++
    total.lost += found.lost.length
    total.duplicated += found.duplicated
    total.stale += found.stale.length
    total.versionGaps += found.versionGaps
    total.leasesLeft += left
    if (clean.code !== 0) total.cleanFailures++
  }
  process.stdout.write(`${JSON.stringify({ total: { seed: SEED, records: RECORDS, ...total } })}\n`)
  const selfCheck = await checkTheCheck()
  process.stdout.write(`${JSON.stringify({ selfCheck })}\n`)
  process.exitCode = total.lost + total.duplicated + total.stale + total.versionGaps + total.cleanFailures > 0 || !selfCheck.ok ? 1 : 0
} finally {
  await Promise.all([elementum.close(), elean.close()])
  await db.close()
  await rm(dir, { recursive: true, force: true })
  if (!args.keep) await dropDatabase(serverUrl, dbName)
  else process.stderr.write(`database kept: ${dbName}\n`)
}
