import type { Sql } from './client.js'
import { withDbRetry } from './transient.js'

/**
 * The daemons alive on one database (table `replicas`): each announces itself at start, renews
 * its row every third of its lifetime and removes it when it stops; a replica that dies drops
 * out of the count when its row expires. One-shot commands (`elsync sync`) are not replicas.
 */
export interface Replicas {
  /** Announces this replica and keeps its row alive until `leave`. */
  join(): Promise<void>
  /** Replicas alive now, this one included (at least 1). */
  live(): Promise<number>
  /** Stops renewing and removes this replica's row (errors are reported, never thrown). */
  leave(): Promise<void>
}

export interface ReplicaSettings {
  owner: string
  /** How long a row lives without renewal: the lease length, so that a dead replica's share moves on with its leases. */
  ttlMs: number
  onError?: (err: unknown, what: 'heartbeat' | 'leave') => void
}

export function createReplicas(sql: Sql, settings: ReplicaSettings): Replicas {
  const { owner, ttlMs } = settings
  const onError = settings.onError ?? (() => {})
  let beat: NodeJS.Timeout | undefined
  const renew = () => sql`
    insert into elsync.replicas (owner, expires_at) values (${owner}, now() + make_interval(secs => ${ttlMs / 1000}))
    on conflict (owner) do update set expires_at = excluded.expires_at`

  return {
    async join() {
      await withDbRetry(renew, { what: 'announcing this replica', maxMs: 10_000 })
      beat = setInterval(() => void renew().catch((err: unknown) => onError(err, 'heartbeat')), Math.max(50, Math.floor(ttlMs / 3)))
      beat.unref()
    },
    async live() {
      const [row] = await sql<{ n: number }[]>`select count(*)::int as n from elsync.replicas where expires_at > now() or owner = ${owner}`
      return Math.max(1, row?.n ?? 1)
    },
    async leave() {
      clearInterval(beat)
      await sql`delete from elsync.replicas where owner = ${owner}`.catch((err: unknown) => onError(err, 'leave'))
    },
  }
}
