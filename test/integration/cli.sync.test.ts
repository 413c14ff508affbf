import { execFile } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { startElean } from '../../src/sim/elean/index.js'
import { startElementum, seedNamespace } from '../../src/sim/elementum/index.js'
import { createTestDb } from '../support/db.js'

const run = promisify(execFile)
const db = await createTestDb()
const elean = await startElean({ port: 0 })
const elementum = await startElementum({ port: 0 })
elean.store.seed('web', 150, 7)
seedNamespace(elementum.store, 'tasks', 'it-requests', 120, 7)
afterAll(async () => Promise.all([elean.close(), elementum.close()]))

const dir = await mkdtemp(join(tmpdir(), 'elsync-cli-'))
await writeFile(
  join(dir, 'connections.yaml'),
  `connections:
  elementum:
    kind: elementum
    baseUrl: "${elementum.baseUrl}"
    auth: { mode: oauth2-client-credentials, clientId: "\${EL_ID}", clientSecret: "\${EL_SECRET}" }
    streams:
      it-requests: { recordType: tasks, alias: it-requests }
  elean:
    kind: elean
    baseUrl: "${elean.baseUrl}"
    auth: { mode: bearer, token: "\${ELEAN_KEY}" }
    rateLimit: { perMinute: 600 }
    streams:
      web: { project: web }
`,
)
const env = {
  ...process.env,
  DATABASE_URL: db.url,
  LOG_LEVEL: 'debug',
  ELSYNC_CONFIG_DIR: dir,
  EL_ID: elementum.credentials.clientId!,
  EL_SECRET: elementum.credentials.clientSecret!,
  ELEAN_KEY: elean.credentials.apiKey!,
}
const SECRETS = [env.EL_SECRET, env.ELEAN_KEY]

async function elsync(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { env: { ...env, ...extraEnv }, timeout: 60_000 })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

describe('elsync sync', () => {
  it('mirrors every stream with a progress line per page, a summary and a sync_runs row per stream', async () => {
    const r = await elsync(['sync'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^elean\/web page 1: 100 records, 100 changed, \d+ requests, rate budget left \d+$/m)
    expect(r.stdout).toMatch(/^elean\/web page 2: 50 records, 50 changed/m)
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
    await fetch(`${elean.server.url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ kind: 'status', status: 500, count: 50 }) })
    const r = await elsync(['sync'])
    await fetch(`${elean.server.url}/_sim/faults`, { method: 'DELETE' })
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/^FAILED elean\/web .*server_error: GET \/\{project\}\/tasks answered 500/m)
    expect(r.stdout).toMatch(/^ok {5}elementum\/it-requests/m)
    expect(await cursor()).toEqual(before)
    const [failed] = await db.sql`select status, error from elsync.sync_runs where connection = 'elean' order by id desc limit 1`
    expect(failed).toMatchObject({ status: 'failed', error: expect.stringContaining('answered 500') })
  })

  it('skips a stream that another elsync process is running instead of interleaving two scans', async () => {
    const { createStreamLeases } = await import('../../src/db/leases.store.js')
    let release!: () => void
    let holding!: () => void
    const taken = new Promise<void>((r) => (holding = r))
    const held = createStreamLeases(db.sql).tryRun({ connection: 'elean', stream: 'web' }, () => {
      holding()
      return new Promise<void>((r) => (release = r))
    })
    await taken
    const r = await elsync(['sync', '--connection', 'elean'])
    release()
    await held
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^skipped elean\/web: another elsync process is running it$/m)
    expect(r.stdout).toMatch(/1 stream\(s\) skipped: busy in another process/)
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
