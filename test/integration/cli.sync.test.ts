import { execFile, spawn } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { startElean } from '../../src/sim/elean/index.js'
import { startElementum, seedNamespace } from '../../src/sim/elementum/index.js'
import { createTestDb } from '../support/db.js'
import { writeSimConfig } from '../support/sim.config.js'
import { until } from '../support/until.js'

const run = promisify(execFile)
const db = await createTestDb()
// no rate limit of the simulator's own: a test that waits out a 429 arms it
const elean = await startElean({ port: 0, perMinute: Number.POSITIVE_INFINITY })
const elementum = await startElementum({ port: 0 })
elean.store.seed('web', 150, 7)
seedNamespace(elementum.store, 'tasks', 'it-requests', 120, 7)
afterAll(async () => Promise.all([elean.close(), elementum.close()]))

const dir = await mkdtemp(join(tmpdir(), 'elsync-cli-'))
const simEnv = await writeSimConfig(dir, { elementum, elean }, { elean: { rateLimit: '{ perMinute: 600 }' } })
const env = { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'debug', ...simEnv }
const SECRETS = [simEnv.EL_SECRET, simEnv.ELEAN_KEY].map((secret) => {
  if (!secret) throw new Error('the simulators gave no credentials')
  return secret
})

async function elsync(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { env: { ...env, ...extraEnv }, timeout: 60_000 })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

/** `elsync sync` as a child process whose output is read while it runs (to signal it mid-run). */
function startSync(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'sync', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += String(d)))
  child.stderr.on('data', (d) => (stderr += String(d)))
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
  return { child, exited, stdout: () => stdout, stderr: () => stderr }
}

const faults = (method: string, body?: unknown) =>
  fetch(`${elean.server.url}/_sim/faults`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })

describe('elsync sync', () => {
  it('mirrors every stream with a progress line per page, a summary and a sync_runs row per stream', async () => {
    const r = await elsync(['sync'])
    expect(r.code, r.stderr).toBe(0)
    // Elean's tasks are read by full scans, whose pages are saved in batches
    expect(r.stdout).toMatch(/^elean\/web pages 1–2: 150 records, 150 changed, \d+ requests, rate budget left \d+$/m)
    expect(r.stdout).toMatch(/^elementum\/it-requests page 1: 100 records, 100 changed/m)
    expect(r.stdout).toMatch(/^elementum\/it-requests page 2: 20 records, 20 changed/m)
    expect(r.stdout).toMatch(/^ok {5}elementum\/it-requests \(incremental, 2 pages, 120 seen, 120 changed/m)
    expect(r.stdout).toMatch(/2 of 2 streams succeeded/)
    const runs = await db.sql`select connection, stream, status, records_seen, records_changed, requests from elsync.sync_runs order by id`
    expect(runs.map((x) => [x.connection, x.status, x.records_seen])).toEqual(
      expect.arrayContaining([
        ['elean', 'succeeded', 150],
        ['elementum', 'succeeded', 120],
      ]),
    )
    for (const s of SECRETS) expect(r.stdout + r.stderr).not.toContain(s)
  })

  it('writes nothing on a second sync without changes', async () => {
    const [before] = await db.sql`select count(*)::int as n from elsync.record_changes`
    const r = await elsync(['sync'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^ok {5}elean\/web \(full, 2 pages, 150 seen, 0 changed, 0 deleted/m)
    const [after] = await db.sql`select count(*)::int as n from elsync.record_changes`
    expect(after?.n).toBe(before?.n)
  })

  it('exits 1 when a stream fails, without advancing its cursor or blocking the other stream', async () => {
    const cursor = async () => (await db.sql`select cursor from elsync.stream_state where connection = 'elean'`)[0]?.cursor
    const before = await cursor()
    // 501: a server error no retry changes (a 500 is retried, for about 15 s with the default policy)
    await fetch(`${elean.server.url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ kind: 'status', status: 501, count: 50 }) })
    const r = await elsync(['sync'])
    await fetch(`${elean.server.url}/_sim/faults`, { method: 'DELETE' })
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/^FAILED elean\/web .*server_error: GET \/\{project\}\/tasks answered 501/m)
    expect(r.stdout).toMatch(/^ok {5}elementum\/it-requests/m)
    expect(await cursor()).toEqual(before)
    const [failed] = await db.sql`select status, error from elsync.sync_runs where connection = 'elean' order by id desc limit 1`
    expect(failed).toMatchObject({ status: 'failed', error: expect.stringContaining('answered 501') })
  })

  /** Holds a stream's lease as another live process would, until `release`. */
  async function holdStream(stream: { connection: string; stream: string }) {
    const { createStreamLeases } = await import('../../src/db/leases.store.js')
    let release!: () => void
    let holding!: () => void
    const taken = new Promise<void>((r) => (holding = r))
    const held = createStreamLeases(db.sql).tryRun(stream, () => {
      holding()
      return new Promise<void>((r) => (release = r))
    })
    await taken
    return async () => {
      release()
      await held
    }
  }

  it('waits for a stream another elsync process is running, then runs it, instead of interleaving two scans', async () => {
    const release = await holdStream({ connection: 'elean', stream: 'web' })
    const sync = startSync(['--connection', 'elean'])
    await until('the sync to wait for the stream', () =>
      /^waiting for elean\/web: another elsync process holds it \(up to 60 s\)$/m.test(sync.stdout()) ? true : undefined,
    )
    expect(sync.stdout()).not.toMatch(/page 1/)
    await release()
    expect(await sync.exited, sync.stderr()).toBe(0)
    expect(sync.stdout()).toMatch(/^ok {5}elean\/web /m)
    expect(sync.stdout()).not.toMatch(/skipped/)
  })

  it('takes over the lease of a process that died once it runs out', async () => {
    // what a killed process leaves: a lease it can no longer release nor renew (long enough to outlast a
    // slow start of the sync's process on a loaded machine, so that the sync finds it held)
    await db.sql`update elsync.stream_leases set owner = 'a-dead-process', expires_at = now() + interval '8 seconds'
      where connection = 'elean' and stream = 'web'`
    const r = await elsync(['sync', '--connection', 'elean'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^waiting for elean\/web: another elsync process holds it/m)
    expect(r.stdout).toMatch(/^ok {5}elean\/web /m)
  })

  it('skips a stream still held when the wait runs out, says so and exits 1', async () => {
    const release = await holdStream({ connection: 'elean', stream: 'web' })
    // the wait is two leases: 2 s here
    const r = await elsync(['sync', '--connection', 'elean'], { ELSYNC_LEASE_SECONDS: '1' })
    await release()
    expect(r.code, r.stderr).toBe(1)
    expect(r.stdout).toMatch(/^waiting for elean\/web: another elsync process holds it \(up to 2 s\)$/m)
    expect(r.stdout).toMatch(/^skipped elean\/web: another elsync process is still running it after 2 s$/m)
    expect(r.stdout).toMatch(/^1 stream skipped: busy in another process$/m)
    expect(r.stdout).not.toMatch(/0 of 0/)
  })

  it('says when it waits out a Retry-After longer than 2 s', async () => {
    await faults('POST', { kind: 'rate-limit', retryAfterSeconds: 3, count: 1 })
    const r = await elsync(['sync', '--connection', 'elean'])
    await faults('DELETE')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^elean: rate limit, waiting 3 s \(Retry-After\)$/m)
  })

  it('records a run stopped by SIGINT as interrupted (not failed, not left running)', async () => {
    const [last] = await db.sql`select coalesce(max(id), 0)::int as id from elsync.sync_runs`
    // a long Retry-After holds the run in flight until the signal
    await faults('POST', { kind: 'rate-limit', retryAfterSeconds: 60, count: 1 })
    const sync = startSync(['--connection', 'elean'])
    await until('the run to wait out the rate limit', () => (/rate limit, waiting 60 s/.test(sync.stdout()) ? true : undefined))
    sync.child.kill('SIGINT')
    const code = await sync.exited
    await faults('DELETE')
    expect(code, sync.stderr()).toBe(1)
    expect(sync.stdout()).toMatch(/^INTERRUPTED elean\/web \(.*\): stopped by SIGINT$/m)
    expect(sync.stdout()).toMatch(/^0 of 1 stream succeeded, 1 interrupted$/m)
    const runs = await db.sql`select status, error from elsync.sync_runs where id > ${last?.id ?? 0}`
    expect(runs).toEqual([{ status: 'interrupted', error: expect.stringContaining('interrupted') }])
    const [status] = await db.sql`select last_status, errors_24h::int as errors from elsync.sync_status where connection = 'elean'`
    expect(status?.last_status).toBe('interrupted')
    const [failedBefore] =
      await db.sql`select count(*)::int as n from elsync.sync_runs where connection = 'elean' and status in ('failed', 'abandoned', 'interrupted')`
    expect(status?.errors).toBe(failedBefore?.n)
  })

  it('exits 2 on a usage error naming the unknown stream', async () => {
    const r = await elsync(['sync', '--connection', 'elean', '--stream', 'nope'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/unknown stream "nope" on connection "elean"/)
  })

  it('exits 2 on invalid config without touching the database', async () => {
    // an unreachable database: any attempt to use it would be a runtime failure (exit 1)
    const r = await elsync(['sync'], { ELEAN_KEY: '', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/connections\.yaml: connections\.elean\.auth\.token: must not be empty/)
    // the same wording as elsync check's
    expect(r.stderr).toMatch(new RegExp(`^config invalid: 1 error in ${dir}$`, 'm'))
  })
})

describe('elsync migrate', () => {
  it('applies migrations and says where, hiding the password', async () => {
    const r = await elsync(['migrate'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^migrations applied: postgres:\/\/.*\/elsync_t_/m)
    const [row] = await db.sql`select count(*)::int as n from elsync.__migrations`
    expect(row?.n).toBeGreaterThanOrEqual(4)
  })
})

describe('elsync check', () => {
  it('prints ok per connection, and failed with the reason when a key is wrong (exit 1)', async () => {
    const ok = await elsync(['check'])
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stdout).toMatch(/^ok elementum: /m)
    expect(ok.stdout).toMatch(/^ok elean: /m)
    const bad = await elsync(['check'], { ELEAN_KEY: 'el_0000000000000000000000000000000000000000' })
    expect(bad.code).toBe(1)
    expect(bad.stdout).toMatch(/^ok elementum: /m)
    expect(bad.stderr).toMatch(/^failed elean: .*401/m)
    expect(bad.stdout + bad.stderr).not.toContain('el_0000000000000000000000000000000000000000')
  })
})
