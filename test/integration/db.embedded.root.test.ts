/**
 * The embedded Postgres when elsync runs as root from a private directory (a checkout in
 * root's home, or in `mktemp -d`: mode 700), where the postgres user it runs as can reach
 * neither the npm binaries nor `<dataDir>/pg`. Runs only as root, the case it is about.
 */
import { execFile } from 'node:child_process'
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EmbeddedPostgresStartError, EmbeddedPostgresUnavailableError, startEmbeddedPostgres } from '../../src/db/embedded.js'
import { packageTree } from '../../src/db/embedded.layout.js'

const run = promisify(execFile)
const isRoot = userInfo().uid === 0

async function selectOne(url: string): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    const [row] = await sql<{ one: number }[]>`select 1 as one`
    return row?.one ?? 0
  } finally {
    await sql.end({ timeout: 5 })
  }
}

describe.runIf(isRoot)('embedded Postgres as root (these tests run only when the tests run as root)', () => {
  let privateDir = ''
  let runtimeDir = ''
  beforeAll(async () => {
    privateDir = await mkdtemp(join(tmpdir(), 'elsync-private-'))
    await chmod(privateDir, 0o700)
    // the npm binaries, hard-linked (copied across file systems) into the private directory: the same files behind a closed door
    await run('cp', ['-al', packageTree().tree, join(privateDir, 'native')]).catch(() => run('cp', ['-a', packageTree().tree, join(privateDir, 'native')]))
    runtimeDir = await mkdtemp(join(tmpdir(), 'elsync-runtime-'))
    await chmod(runtimeDir, 0o755)
  })
  afterAll(async () => {
    await rm(privateDir, { recursive: true, force: true })
    await rm(runtimeDir, { recursive: true, force: true })
  })

  it('runs from binaries and a data directory inside a mode-700 directory, and says where the data went', async () => {
    const progress: string[] = []
    const pg = await startEmbeddedPostgres({
      dataDir: join(privateDir, 'data'),
      binaries: join(privateDir, 'native'),
      rootRuntimeDir: runtimeDir,
      port: 0,
      persistent: false,
      onProgress: (line) => progress.push(line),
    })
    try {
      expect(await selectOne(pg.url)).toBe(1)
      expect(pg.databaseDir.startsWith(`${runtimeDir}/`)).toBe(true)
      expect(progress.join('\n')).toContain(`keeps its data in ${pg.databaseDir}`)
      const owner = await stat(pg.databaseDir)
      expect({ uid: owner.uid, mode: owner.mode & 0o777 }).toEqual({ uid: Number((await run('id', ['-u', 'postgres'])).stdout.trim()), mode: 0o700 })
    } finally {
      await pg.stop()
    }
    await expect(stat(pg.databaseDir)).rejects.toThrow(/ENOENT/)
  })

  it('keeps the data directory in place when the postgres user can reach it', async () => {
    const open = await mkdtemp(join(tmpdir(), 'elsync-open-'))
    await chmod(open, 0o755)
    try {
      const pg = await startEmbeddedPostgres({ dataDir: open, binaries: join(privateDir, 'native'), rootRuntimeDir: runtimeDir, port: 0 })
      try {
        expect(pg.databaseDir).toBe(join(open, 'pg'))
        expect(await selectOne(pg.url)).toBe(1)
      } finally {
        await pg.stop()
      }
    } finally {
      await rm(open, { recursive: true, force: true })
    }
  })

  it('finds the moved cluster again once the directory has been opened up', async () => {
    const home = await mkdtemp(join(tmpdir(), 'elsync-home-'))
    await chmod(home, 0o700)
    const opts = { dataDir: join(home, 'data'), binaries: join(privateDir, 'native'), rootRuntimeDir: runtimeDir, port: 0 }
    try {
      const first = await startEmbeddedPostgres(opts)
      const sql = postgres(first.url, { max: 1, onnotice: () => {} })
      await sql`create table kept (id int)`
      await sql.end({ timeout: 5 })
      await first.stop()

      await chmod(home, 0o755)
      const progress: string[] = []
      const again = await startEmbeddedPostgres({ ...opts, persistent: false, onProgress: (line) => progress.push(line) })
      try {
        expect(again.databaseDir).toBe(first.databaseDir)
        expect(progress.join('\n')).toContain('where an earlier run put it')
        const check = postgres(again.url, { max: 1, onnotice: () => {} })
        expect(await check`select to_regclass('kept')::text as t`).toEqual([{ t: 'kept' }])
        await check.end({ timeout: 5 })
      } finally {
        await again.stop()
      }
    } finally {
      await rm(home, { recursive: true, force: true })
    }
  })

  it('without a user to run Postgres as, fails with one line saying why and what to do', async () => {
    const err = await startEmbeddedPostgres({
      dataDir: join(privateDir, 'nouser'),
      rootRuntimeDir: runtimeDir,
      osUser: 'elsync-no-such-user',
      createOsUser: false,
      port: 0,
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(EmbeddedPostgresUnavailableError)
    const { code, message } = err as EmbeddedPostgresUnavailableError
    expect(code).toBe('embedded_postgres_unavailable')
    expect(message).not.toContain('\n')
    expect(message).toMatch(/no "elsync-no-such-user" user.*useradd.*DATABASE_URL/)
  })

  it('turns a binary that cannot be executed into a one-line error instead of crashing', async () => {
    const broken = join(privateDir, 'broken')
    await mkdir(join(broken, 'bin'), { recursive: true })
    for (const program of ['initdb', 'postgres']) await writeFile(join(broken, 'bin', program), '#!/bin/sh\nexit 0\n', { mode: 0o644 })
    const err = await startEmbeddedPostgres({ dataDir: join(privateDir, 'broken-data'), binaries: broken, rootRuntimeDir: runtimeDir, port: 0 }).catch(
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(EmbeddedPostgresStartError)
    expect((err as Error).message).not.toContain('\n')
    expect((err as Error).message).toMatch(/may not execute initdb \(EACCES/)
  })
})
