import { createDatabase } from './admin.js'
import { createDb, redactUrl, type DbHandle } from './client.js'
import { startEmbeddedPostgres } from './embedded.js'
import { runMigrations } from './migrate.js'
import { withDbRetry } from './transient.js'

/**
 * The database for a command or the daemon: `DATABASE_URL` when given, otherwise the
 * embedded Postgres under `<dataDir>/pg`. Migrations are applied before anything else.
 */
export interface OpenedDatabase extends DbHandle {
  url: string
  /** A URL safe to print (password hidden unless embedded, whose password is not a secret). */
  displayUrl: string
  embedded: boolean
}

export interface OpenDatabaseOptions {
  databaseUrl?: string | undefined
  dataDir: string
  onProgress?: (message: string) => void
  max?: number
  /** Drop and recreate this database on the server and use it (the demo's throw-away mirror). */
  freshDatabase?: string
  /** How long to wait for a database that refuses connections at start-up (default 120 s). */
  waitMs?: number
}

export const DEFAULT_DATABASE_WAIT_MS = 120_000

export async function openDatabase(opts: OpenDatabaseOptions): Promise<OpenedDatabase> {
  const progress = opts.onProgress ?? (() => {})
  let url = opts.databaseUrl
  let stopEmbedded: (() => Promise<void>) | undefined
  if (!url) {
    progress(`starting embedded Postgres under ${opts.dataDir}/pg (set DATABASE_URL to use your own server)`)
    const pg = await startEmbeddedPostgres({ dataDir: opts.dataDir })
    url = pg.url
    stopEmbedded = pg.stop
  }
  if (opts.freshDatabase) url = await createDatabase(url, opts.freshDatabase, { replace: true })
  const target = redactUrl(url)
  try {
    // a database that is restarting or not up yet (containers starting together) is waited for, bounded
    await withDbRetry(() => runMigrations(url), {
      maxMs: opts.waitMs ?? DEFAULT_DATABASE_WAIT_MS,
      what: `connecting to ${target}`,
      onRetry: (err, attempt) => {
        const code = (err as { code?: string }).code ?? 'error'
        if (attempt === 1 || attempt % 5 === 0)
          progress(`database at ${target} not reachable (${code}); retrying for up to ${Math.round((opts.waitMs ?? DEFAULT_DATABASE_WAIT_MS) / 1000)} s`)
      },
    })
  } catch (err) {
    await stopEmbedded?.()
    throw new Error(`cannot migrate the database at ${redactUrl(url)}: ${err instanceof Error ? err.message : String(err)}`)
  }
  const handle = createDb(url, { max: opts.max ?? 10 })
  return {
    ...handle,
    url,
    displayUrl: stopEmbedded ? url : redactUrl(url),
    embedded: stopEmbedded !== undefined,
    close: async () => {
      await handle.close()
      await stopEmbedded?.()
    },
  }
}
