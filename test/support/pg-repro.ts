import { execFile } from 'node:child_process'
import { cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll } from 'vitest'

/**
 * Runs a postgres.js reproduction script (test/support/pg-*-repro.mjs) in a child process,
 * against the project's patched postgres or an unpatched copy of it, and says whether it
 * answered, hung past the bound or crashed. Call `usePgRepro` at the top level of a test file.
 */
export type ReproResult<T> = { ok: true; out: T } | { ok: false; why: string }

const run = promisify(execFile)
const root = process.cwd()

export function usePgRepro(scriptName: string) {
  const script = join(root, 'test/support', scriptName)
  const dirs: string[] = []
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  /** A folder holding the script; `patched: false` gives it a copy of postgres with the patch taken out. */
  async function prepare(patched: boolean): Promise<string> {
    // the patched script must resolve the project's own postgres: it runs from inside the tree
    const dir = await mkdtemp(patched ? join(root, 'node_modules/.elsync-repro-') : join(tmpdir(), 'elsync-unpatched-'))
    dirs.push(dir)
    if (!patched) {
      await cp(join(root, 'node_modules/postgres'), join(dir, 'node_modules/postgres'), { recursive: true })
      await run('git', ['apply', '-R', join(root, 'patches/postgres+3.4.9.patch')], { cwd: dir })
    }
    await cp(script, join(dir, 'repro.mjs'))
    return dir
  }

  /** One run of the script in `dir`; a run still going after `hangMs` is killed and counts as hung. */
  async function repro<T>(dir: string, url: string, opts: { hangMs: number; crash: RegExp }): Promise<ReproResult<T>> {
    try {
      const { stdout } = await run(process.execPath, [join(dir, 'repro.mjs'), url], { cwd: dir, timeout: opts.hangMs, killSignal: 'SIGKILL' })
      return { ok: true, out: JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as T }
    } catch (err) {
      const e = err as { killed?: boolean; stderr?: string }
      return { ok: false, why: e.killed ? 'hung' : `crashed: ${String(e.stderr).match(opts.crash)?.[0] ?? e.stderr}` }
    }
  }

  return { prepare, repro }
}
