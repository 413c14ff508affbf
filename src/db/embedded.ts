import { existsSync } from 'node:fs'
import { chown, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { userInfo } from 'node:os'
import { join, resolve } from 'node:path'
import { createDatabase } from './admin.js'
import { resolveLayout, type Layout } from './embedded.layout.js'
import { runInitdb, startPostmaster } from './embedded.process.js'

export { EmbeddedPostgresStartError, EmbeddedPostgresUnavailableError } from './embedded.errors.js'

/**
 * The embedded default: a Postgres cluster from npm binaries under `<dataDir>/pg`, kept
 * between runs. Postgres refuses to run as root, so as root the cluster runs as the
 * `postgres` system user (created when missing), from binaries and a data directory it can
 * reach (see embedded.layout.ts). Failures are typed errors with a one-line message.
 */
export interface EmbeddedPg {
  url: string
  /** Where the cluster's data is: `<dataDir>/pg`, or elsewhere when the postgres user cannot reach it. */
  databaseDir: string
  stop(): Promise<void>
}

export interface EmbeddedOptions {
  dataDir: string
  port?: number
  database?: string
  /** Postgres's own output. */
  onLog?: (line: string) => void
  /** What elsync does on the way (a first copy of the binaries, data moved out of a private directory), for people. */
  onProgress?: (line: string) => void
  /** False: the data directory is removed on stop (tests, benchmarks). Default true. */
  persistent?: boolean
  /** A Postgres binary tree (bin, lib, share) instead of the npm package's. */
  binaries?: string
  /** As root: the shared directory for the binary copy and out-of-reach data (default /var/lib/elsync-postgres). */
  rootRuntimeDir?: string
  /** As root: the OS user Postgres runs as (default `postgres`), and whether to create it when missing (default true). */
  osUser?: string
  createOsUser?: boolean
}

const USER = 'elsync'
const PASSWORD = 'elsync'

export async function freePort(preferred = 0): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number | undefined>((res) => {
      const srv = createServer()
      srv.once('error', () => res(undefined))
      srv.listen(port, '127.0.0.1', () => {
        const addr = srv.address()
        srv.close(() => res(typeof addr === 'object' && addr ? addr.port : undefined))
      })
    })
  return (preferred ? await tryPort(preferred) : undefined) ?? (await tryPort(0)) ?? 0
}

async function initCluster(layout: Layout, onLine: (line: string) => void): Promise<void> {
  // beside the data directory, where the postgres user can read it (the OS temp dir may be private)
  const pwfile = `${layout.databaseDir}.pwfile`
  await writeFile(pwfile, `${PASSWORD}\n`, { mode: 0o600 })
  try {
    if (layout.runAs) await chown(pwfile, layout.runAs.uid, layout.runAs.gid)
    await runInitdb(
      layout.tree,
      [
        `--pgdata=${layout.databaseDir}`,
        '--auth=scram-sha-256',
        `--username=${USER}`,
        `--pwfile=${pwfile}`,
        // C.UTF-8 rather than en_US.UTF-8, which slim machines lack
        '--locale=C.UTF-8',
        '--lc-messages=C',
        '--encoding=UTF8',
      ],
      layout.runAs,
      onLine,
    )
  } finally {
    await rm(pwfile, { force: true })
  }
}

export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedPg> {
  const onLog = opts.onLog ?? (() => {})
  const layout = await resolveLayout({
    databaseDir: resolve(join(opts.dataDir, 'pg')),
    isRoot: userInfo().uid === 0,
    binaries: opts.binaries,
    rootRuntimeDir: opts.rootRuntimeDir,
    osUser: opts.osUser ?? 'postgres',
    createOsUser: opts.createOsUser ?? true,
    say: opts.onProgress ?? (() => {}),
  })
  const port = await freePort(opts.port ?? 54329)
  if (!existsSync(join(layout.databaseDir, 'PG_VERSION'))) await initCluster(layout, onLog)
  const postmaster = await startPostmaster(
    layout.tree,
    ['-D', layout.databaseDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'lc_messages=C'],
    layout.runAs,
    onLog,
  )
  const serverUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}`
  const database = opts.database ?? 'elsync'
  try {
    await createDatabase(`${serverUrl}/postgres`, database).catch((err: unknown) => {
      if ((err as { code?: unknown }).code !== '42P04') throw err // duplicate_database: kept from an earlier run
    })
  } catch (err) {
    await postmaster.stop()
    throw err
  }
  return {
    url: `${serverUrl}/${database}`,
    databaseDir: layout.databaseDir,
    stop: async () => {
      await postmaster.stop()
      if (opts.persistent === false) await rm(layout.databaseDir, { recursive: true, force: true })
    },
  }
}
