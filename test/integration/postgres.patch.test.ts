import { execFile } from 'node:child_process'
import { cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, inject, it } from 'vitest'

/**
 * elsync carries a patch of postgres.js (patches/postgres+3.4.9.patch, applied by
 * patch-package on `npm ci`): without it a terminated backend under a reserved connection
 * kills the process with an uncaught TypeError, or leaves the next query waiting forever.
 */
const run = promisify(execFile)
const root = process.cwd()
const script = join(root, 'test/support/pg-terminate-repro.mjs')
// a query that never settles shows as this bound being reached; generous for a loaded machine
const HANG_MS = 20_000

async function repro(cwd: string, url: string): Promise<{ ok: true; out: { first: string; second: string; pool: number } } | { ok: false; why: string }> {
  try {
    const { stdout } = await run(process.execPath, [join(cwd, 'repro.mjs'), url], { cwd, timeout: HANG_MS, killSignal: 'SIGKILL' })
    return { ok: true, out: JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') }
  } catch (err) {
    const e = err as { killed?: boolean; stderr?: string }
    return { ok: false, why: e.killed ? 'hung' : `crashed: ${String(e.stderr).match(/TypeError[^\n]*/)?.[0] ?? e.stderr}` }
  }
}

describe('postgres.js under a terminated backend', () => {
  const url = inject('pgAdminUrl')
  const dirs: string[] = []
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  it('settles every query of a reserved connection with CONNECTION_CLOSED, and the process lives on', async () => {
    // the script must resolve the project's own (patched) postgres: run it from inside the tree
    const dir = await mkdtemp(join(root, 'node_modules/.elsync-repro-'))
    dirs.push(dir)
    await cp(script, join(dir, 'repro.mjs'))
    for (let trial = 0; trial < 3; trial++) {
      const result = await repro(dir, url)
      expect(result).toMatchObject({ ok: true, out: { second: 'CONNECTION_CLOSED', pool: 3 } })
      if (result.ok) expect(['CONNECTION_CLOSED', 'ECONNRESET']).toContain(result.out.first)
    }
  })

  it('crashes or hangs without the patch (the reproduction is real)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'elsync-unpatched-'))
    dirs.push(dir)
    await cp(join(root, 'node_modules/postgres'), join(dir, 'node_modules/postgres'), { recursive: true })
    await run('git', ['apply', '-R', join(root, 'patches/postgres+3.4.9.patch')], { cwd: dir })
    await cp(script, join(dir, 'repro.mjs'))
    const result = await repro(dir, url)
    expect(result.ok).toBe(false)
  })
})
