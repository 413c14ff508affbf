import { existsSync } from 'node:fs'
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

/** True when every migration in the folder is recorded as applied (for /readyz). */
export async function migrationsApplied(sql: postgres.Sql, expected: number): Promise<boolean> {
  const rows = await sql<{ n: number }[]>`
    select count(*)::int as n from elsync.__migrations`.catch(() => [{ n: -1 }])
  return (rows[0]?.n ?? -1) >= expected
}
