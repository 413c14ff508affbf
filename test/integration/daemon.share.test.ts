import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { eleanSimConnection } from '../../src/sim/connections.js'
import { type StartedElean, startElean } from '../../src/sim/elean/index.js'
import { createTestDb } from '../support/db.js'
import { simControl } from '../support/sim-control.js'
import { until } from '../support/until.js'

/**
 * Issue 13, replicas spread the streams: two `elsync run` started together over two streams (two
 * connections, which one daemon polls side by side) each poll one of them in their start-up pass,
 * rather than the first one up taking both (ELSYNC_STARTUP_SETTLE_MS lets them see each other). Each stream's first list request hangs for 4 s, so a
 * daemon that took both would still hold them when the other one looks.
 */

const dirs: string[] = []
const children: ChildProcess[] = []
const sims: StartedElean[] = []
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  for (const s of sims) await s.close()
})

function elsyncRun(env: NodeJS.ProcessEnv): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'run'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let output = ''
  child.stdout?.on('data', (b: Buffer) => (output += b.toString()))
  child.stderr?.on('data', (b: Buffer) => (output += b.toString()))
  return Object.assign(child, { output: () => output })
}

/** The streams a daemon's log says it ran (`stream run finished` lines). */
const streamsRun = (output: string): string[] =>
  output
    .split('\n')
    .filter((l) => l.includes('"stream run finished"'))
    .map((l) => (JSON.parse(l) as { connection: string }).connection)

it('two daemons started together over two streams each poll one in the start-up pass', async () => {
  const db = await createTestDb()
  const elean = await startElean({ port: 0, perMinute: 0 })
  sims.push(elean)
  for (const project of ['one', 'two']) elean.store.seed(project, 30, 1)
  const dir = await mkdtemp(join(tmpdir(), 'elsync-share-'))
  dirs.push(dir)
  // only the start-up pass polls within the test: the next tick is a year away
  const connection = (project: string) =>
    eleanSimConnection({ baseUrl: elean.baseUrl, credentials: { apiKey: '${ELEAN_KEY}' } }, [project], { poll: '0 0 1 1 *' })
  await writeFile(join(dir, 'connections.yaml'), JSON.stringify({ connections: { one: connection('one'), two: connection('two') } }))
  for (const project of ['one', 'two'])
    await simControl(elean.server, 'POST', '/faults', { kind: 'hang', hangMs: 4_000, count: 1, route: `/v1/public/${project}/` })
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: db.url,
    ELSYNC_CONFIG_DIR: dir,
    ELSYNC_ADMIN_PORT: '0',
    ELSYNC_LEASE_SECONDS: '3',
    // long enough for both to have announced themselves before either polls
    ELSYNC_STARTUP_SETTLE_MS: '2000',
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    ELEAN_KEY: elean.credentials.apiKey ?? '',
  }
  delete env.ELSYNC_FAILPOINT
  const daemons = [elsyncRun(env), elsyncRun(env)]
  const ran = await until(
    'both streams polled',
    () => {
      const all = daemons.map((d) => streamsRun(d.output()))
      return all.flat().length >= 2 ? all : undefined
    },
    60_000,
  )
  expect(ran.map((r) => r.length)).toEqual([1, 1])
  expect(ran.flat().sort()).toEqual(['one', 'two'])
  for (const d of daemons) d.kill('SIGTERM')
  await Promise.all(daemons.map((d) => (d.exitCode === null ? new Promise((r) => d.once('exit', r)) : undefined)))
  await db.close()
}, 90_000)
