import { SyncError } from '../engine/errors.js'

/**
 * The embedded Postgres's two failures, each a single line the CLI prints as is: it cannot
 * run on this machine at all (what is missing and what to do), or it was tried and failed
 * (the line from initdb or postgres that says why).
 */
export class EmbeddedPostgresUnavailableError extends SyncError {
  override readonly code = 'embedded_postgres_unavailable'
  constructor(why: string, options?: { cause?: unknown }) {
    super(`embedded Postgres cannot run here: ${why}. Set DATABASE_URL to use your own Postgres server instead`, options)
  }
}

export class EmbeddedPostgresStartError extends SyncError {
  override readonly code = 'embedded_postgres_start_failed'
  constructor(what: string, options?: { cause?: unknown }) {
    super(`embedded Postgres did not start: ${what} (set DATABASE_URL to use your own Postgres server instead)`, options)
  }
}

/** The message of an unknown error on one line. */
export function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, '; ').trim()
}
