import { execFile } from 'node:child_process'
import { cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, inject, it } from 'vitest'

/**
 * patches/postgres+3.4.9.patch also covers porsager/postgres#1192 and #1223: a backend
 * terminated while a new connection fetches its array types. Unpatched, the first query after
 * the reconnect fails with the dead backend's 57P01 and the same error escapes as an unhandled
 * rejection, which kills the process (a kill sweep of `elsync sync` that terminated its
 * connections at start-up hit it about once in 30 trials). The reproduction's proxy holds the
 * array-type query and terminates its backend first.
 */
const run = promisify(execFile)
const root = process.cwd()
const script = join(root, 'test/support/pg-startup-repro.mjs')

async function repro(cwd: string, url: string): Promise<{ ok: true; out: { first: string; second: string } } | { ok: false; why: string }> {
  try {
    const { stdout } = await run(process.execPath, [join(cwd, 'repro.mjs'), url], { cwd, timeout: 20_000, killSignal: 'SIGKILL' })
    return { ok: true, out: JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') }
  } catch (err) {
    const e = err as { killed?: boolean; stderr?: string }
    return { ok: false, why: e.killed ? 'hung' : `crashed: ${String(e.stderr).match(/(PostgresError|TypeError)[^\n]*/)?.[0] ?? e.stderr}` }
  }
}

describe('postgres.js when a connection is terminated during its start-up', () => {
  const url = inject('pgAdminUrl')
  const dirs: string[] = []
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  it('reconnects and answers the first query, and the process lives on', async () => {
    // run from inside the tree, so that the script resolves the project's own (patched) postgres
    const dir = await mkdtemp(join(root, 'node_modules/.elsync-startup-'))
    dirs.push(dir)
    await cp(script, join(dir, 'repro.mjs'))
    expect(await repro(dir, url)).toEqual({ ok: true, out: { first: 'ok 1', second: 'ok 2' } })
  })

  it('replays the dead backend’s error or dies without the patch (the reproduction is real)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'elsync-unpatched-'))
    dirs.push(dir)
    await cp(join(root, 'node_modules/postgres'), join(dir, 'node_modules/postgres'), { recursive: true })
    await run('git', ['apply', '-R', join(root, 'patches/postgres+3.4.9.patch')], { cwd: dir })
    await cp(script, join(dir, 'repro.mjs'))
    const result = await repro(dir, url)
    expect(result).not.toEqual({ ok: true, out: { first: 'ok 1', second: 'ok 2' } })
  })
})
