import { execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { createPrng } from '../../src/sim/common/prng.js'
import { elsyncSync, startBidiWorld } from '../support/bidi-world.js'
import { createTestDb } from '../support/db.js'
import { until } from '../support/until.js'
import { createSweep } from './sweep.js'

/**
 * Secrets, scanned everywhere the suite can look (issue 13): every line `elsync` printed at
 * debug level (syncs with writes both ways, a revoked token, failing requests, a daemon),
 * a dump of the whole database, `/metrics` and the admin API's answers hold none of the
 * configured secrets and none of the access tokens the simulator issued.
 */

const db = await createTestDb()
const world = await startBidiWorld(db, { seed: 31, left: 6, right: 5 })
afterAll(() => world.close())
const DEBUG = { LOG_LEVEL: 'debug', LOG_FORMAT: 'json' }

/** `elsync run` until its admin API answers; returns what the API said, and its output after SIGTERM. */
async function daemonAnswers(paths: string[]): Promise<{ answers: string[]; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'run'], {
    env: { ...world.env, ...DEBUG, ELSYNC_ADMIN_PORT: '0', ELSYNC_ADMIN_TOKEN: 'admin-token-for-the-secrets-test' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (b: Buffer) => (output += b.toString()))
  child.stderr.on('data', (b: Buffer) => (output += b.toString()))
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()))
  try {
    const url = await until('the admin API address', () => /admin API: (http:\/\/\S+)/.exec(output)?.[1], 90_000)
    const answers: string[] = []
    for (const path of paths) {
      const res = await fetch(`${url}${path}`, { headers: { authorization: 'Bearer admin-token-for-the-secrets-test' } })
      answers.push(`${path} ${res.status}\n${await res.text()}`)
    }
    return { answers, output }
  } finally {
    child.kill('SIGTERM')
    await exited
  }
}

describe('secrets, scanned everywhere', () => {
  it('appear in no output, no table, no metric and no admin answer', { timeout: 300_000 }, async () => {
    const sweep = createSweep(world, createPrng(31))
    const outputs: string[] = []
    outputs.push((await elsyncSync(world, { env: DEBUG })).output)
    await sweep.person()
    // a revoked token (refresh and retry) and failing requests (errors carry request details)
    await fetch(`${world.elementum.baseUrl.replace(/\/v1$/, '')}/_sim/tokens/revoke`, { method: 'POST' })
    world.elean.server.faults.arm({ kind: 'status', status: 500, count: 3 })
    world.elean.server.faults.arm({ kind: 'status', status: 401, count: 1 })
    outputs.push((await elsyncSync(world, { env: DEBUG })).output)
    outputs.push((await elsyncSync(world, { env: DEBUG })).output)
    const daemon = await daemonAnswers(['/metrics', '/readyz', '/healthz', '/v1/streams', '/v1/runs', '/v1/outbox?state=dead', '/v1/conflicts?state=open'])
    outputs.push(daemon.output)
    const { stdout: dump } = await promisify(execFile)('pg_dump', ['--no-owner', db.url], { maxBuffer: 256 * 1024 * 1024 })

    const secrets = [world.env.EL_SECRET!, world.env.ELEAN_KEY!, ...world.elementum.issuedTokens()]
    // the scan can find things: tokens were issued, the dump holds the mirror, the outputs hold debug lines
    expect(world.elementum.issuedTokens().length).toBeGreaterThan(1)
    const someTitle = [...world.elean.store.project('web')!.topLevel][0]!.title
    expect(dump).toContain(someTitle)
    expect(outputs.join('\n')).toContain('"level":20')
    const places = { outputs: outputs.join('\n'), dump, admin: daemon.answers.join('\n') }
    const hits = Object.entries(places).flatMap(([where, text]) => secrets.filter((s) => text.includes(s)).map((s) => `${where}: ${s.slice(0, 4)}…`))
    expect(hits).toEqual([])
    expect(daemon.answers.find((a) => a.startsWith('/metrics 200'))).toContain('elsync_')
  })
})
