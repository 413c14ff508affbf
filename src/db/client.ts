import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import * as schema from './schema.js'

export type Sql = postgres.Sql
/** A pool or a transaction: query functions take either. */
export type Tx = postgres.Sql | postgres.TransactionSql
export type Db = PostgresJsDatabase<typeof schema>

export interface DbHandle {
  sql: Sql
  db: Db
  close(): Promise<void>
}

export interface DbOptions {
  max?: number
  /** Application name shown in pg_stat_activity. */
  applicationName?: string
}

/** One pool for the process; `close()` waits up to 5 s for queries in flight. */
export function createDb(url: string, opts: DbOptions = {}): DbHandle {
  const sql = postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    connection: { application_name: opts.applicationName ?? 'elsync' },
  })
  return {
    sql,
    db: drizzle(sql, { schema }),
    close: () => sql.end({ timeout: 5 }),
  }
}

/** A connection URL with the password replaced, safe to print or log. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '<unparseable database URL>'
  }
}

/** The same server and credentials, another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

/** Awaits every promise, then throws the first rejection: no statement is still being issued after it returns. */
export async function allSettledOrThrow<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(promises)
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')
  if (failed) throw failed.reason
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T
}
