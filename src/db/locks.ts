import type { StreamRef } from '../engine/types.js'
import { createDb, type Sql } from './client.js'

/**
 * Per-stream advisory locks so that, with several replicas on one database, each stream
 * is polled by one replica at a time. Session-level locks on a reserved connection: a
 * replica that dies releases its locks with its connection.
 */
export interface StreamLocks {
  /** Runs `fn` while holding the stream's lock; returns 'busy' when another replica holds it. */
  tryRun<T>(stream: StreamRef, fn: () => Promise<T>): Promise<T | 'busy'>
}

export function createStreamLocks(sql: Sql): StreamLocks {
  return {
    async tryRun(stream, fn) {
      const conn = await sql.reserve()
      const key = `elsync:stream:${stream.connection}/${stream.stream}`
      try {
        const [row] = await conn<{ ok: boolean }[]>`select pg_try_advisory_lock(hashtextextended(${key}, 0)) as ok`
        if (!row?.ok) return 'busy'
        try {
          return await fn()
        } finally {
          await conn`select pg_advisory_unlock(hashtextextended(${key}, 0))`
        }
      } finally {
        conn.release()
      }
    },
  }
}

/**
 * Locks on a pool of their own: each running stream holds one connection for its whole
 * run, and must not starve the pool its run's queries need. `lanes` is how many streams
 * may run at once (one per connection).
 */
export function openStreamLocks(url: string, lanes: number): StreamLocks & { close(): Promise<void> } {
  const pool = createDb(url, { max: lanes + 1, applicationName: 'elsync-locks' })
  return { ...createStreamLocks(pool.sql), close: pool.close }
}
