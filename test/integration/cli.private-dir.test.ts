/**
 * Issue 12's reproduction: as root, a checkout in a mode-700 directory with its own
 * node_modules and no DATABASE_URL. The embedded Postgres used to die there on an unhandled
 * `spawn …/initdb EACCES`. Runs only as root, the case it is about.
 */
import { execFile } from 'node:child_process'
import { chmod, mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const isRoot = userInfo().uid === 0

describe.runIf(isRoot)('elsync as root in a private checkout (runs only when the tests run as root)', () => {
  const cleanup: string[] = []
  afterAll(async () => {
    for (const path of cleanup) await rm(path, { recursive: true, force: true })
  })

  it('migrates an embedded Postgres and says where its data went', async () => {
    const home = await mkdtemp(join(tmpdir(), 'elsync-home-'))
    cleanup.push(home)
    await chmod(home, 0o700)
    const clone = join(home, 'elsync')
    await mkdir(clone)
    for (const entry of ['src', 'drizzle', 'package.json', 'tsconfig.json']) await run('cp', ['-a', entry, join(clone, entry)])
    // node_modules inside the private directory, as `npm ci` leaves it: hard links are the same files, made quickly
    const modules = await realpath('node_modules')
    await run('cp', ['-al', modules, join(clone, 'node_modules')]).catch(() => run('cp', ['-a', modules, join(clone, 'node_modules')]))
    await mkdir(join(clone, 'config'))
    await writeFile(join(clone, 'config', 'connections.yaml'), 'connections: {}\n')

    const env: Record<string, string | undefined> = { ...process.env, ELSYNC_CONFIG_DIR: 'config' }
    delete env.DATABASE_URL
    delete env.TEST_DATABASE_URL
    delete env.ELSYNC_DATA_DIR
    const result = await run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'migrate'], { cwd: clone, env, timeout: 90_000 }).then(
      (r) => ({ code: 0, ...r }),
      (err: { code: number; stdout: string; stderr: string }) => err,
    )
    const moved = /keeps its data in (\S+)/.exec(result.stderr)?.[1]
    if (moved) cleanup.push(moved)
    expect(result.stderr).not.toMatch(/EACCES|node:events|\n\s+at /)
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 0, stdout: expect.stringMatching(/^migrations applied: postgres:\/\//) })
    expect(moved).toMatch(/elsync-postgres\/data-[0-9a-f]{16}$/)
  })
})
