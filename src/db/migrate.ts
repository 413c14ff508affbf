import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { drizzle } from 'drizzle-orm/postgres-js'
import { migrate } from 'drizzle-orm/postgres-js/migrator'
import postgres from 'postgres'

/** Arbitrary constant: the advisory lock that serialises migrations across replicas. */
const MIGRATION_LOCK = 7_413_220_001

/** Finds the `drizzle/` folder whether we run from `src/` (tsx) or `dist/src/` (build). */
export function migrationsFolder(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'drizzle')
    if (existsSync(join(candidate, 'meta', '_journal.json'))) return candidate
    dir = dirname(dir)
  }
  throw new Error('migrations folder drizzle/ not found next to the package')
}

/**
 * Applies pending migrations on a dedicated `max: 1` connection, under an advisory
 * lock so that replicas starting together apply them once.
 */
export async function runMigrations(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK})`
    await migrate(drizzle(sql), { migrationsFolder: migrationsFolder(), migrationsSchema: 'elsync', migrationsTable: '__migrations' })
    await sql`select pg_advisory_unlock(${MIGRATION_LOCK})`
  } finally {
    await sql.end({ timeout: 5 })
  }
}

/** One migration of this build, as drizzle-kit lists it in `drizzle/meta/_journal.json`. */
export interface JournalEntry {
  tag: string
  /** The migration's timestamp, which drizzle records as `created_at` when it applies it. */
  when: number
}

export function readJournal(folder: string = migrationsFolder()): JournalEntry[] {
  const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as { entries: JournalEntry[] }
  return journal.entries.map((e) => ({ tag: e.tag, when: e.when }))
}

/** The tags of this build's migrations that the database has not recorded as applied, in journal order. */
export async function missingMigrations(sql: postgres.Sql, journal: readonly JournalEntry[]): Promise<string[]> {
  const rows = await sql<{ created_at: string }[]>`select created_at from elsync.__migrations`.catch((err: unknown) => {
    // a database nothing was ever applied to; any other error (unreachable) is the caller's
    if ((err as { code?: string }).code === '42P01') return []
    throw err
  })
  const applied = new Set(rows.map((r) => Number(r.created_at)))
  return journal.filter((m) => !applied.has(m.when)).map((m) => m.tag)
}

/**
 * For `/readyz`: ready when the database answers and every migration in this build's journal
 * is recorded as applied. The journal is read once; the database on every call.
 */
export function migrationReadiness(sql: postgres.Sql, journal: readonly JournalEntry[] = readJournal()) {
  return async (): Promise<{ ready: boolean; reason?: string }> => {
    const missing = await missingMigrations(sql, journal)
    return missing.length === 0 ? { ready: true } : { ready: false, reason: `migrations not applied: ${missing.join(', ')}` }
  }
}
