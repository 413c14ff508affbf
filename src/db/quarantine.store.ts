import { jsonExcerpt } from '../engine/record.js'
import { toSyncError } from '../engine/errors.js'
import type { QuarantinedItem, RemoteRecord, StreamRef } from '../engine/types.js'
import type { Tx } from './client.js'

/**
 * The quarantine (`elsync.quarantine`, view `quarantined_records`): items of a stream that
 * could not be mirrored, kept aside with the reason so the rest of the stream goes on. Written
 * in the page's transaction. A row leaves when its id arrives as a good record, or when a
 * complete scan of its stream no longer reads it (fixed or gone at the source).
 */

/** The quarantine entry of a record the mirror cannot store (`toMirrorRow` threw `err`). */
export function quarantineOf(record: RemoteRecord, err: unknown): QuarantinedItem {
  const remoteId = typeof record.remoteId === 'string' && record.remoteId !== '' ? record.remoteId : null
  let excerpt: string | undefined
  try {
    excerpt = jsonExcerpt(record.document)
  } catch {
    // a document JSON cannot express (a BigInt): the reason alone must do
  }
  return { remoteId, reason: toSyncError(err).message, ...(excerpt !== undefined ? { excerpt } : {}) }
}

export interface GroupedQuarantine {
  remoteId: string | null
  reason: string
  excerpt: string | null
  count: number
}

/** One row per (id, reason), secrets scrubbed: a page may repeat one (several items without an id). */
export function groupQuarantine(items: readonly QuarantinedItem[], redact: (text: string) => string): GroupedQuarantine[] {
  const rows = new Map<string, GroupedQuarantine>()
  for (const item of items) {
    const reason = redact(item.reason)
    const key = JSON.stringify([item.remoteId, reason])
    const excerpt = item.excerpt === undefined ? null : redact(item.excerpt)
    const row = rows.get(key)
    if (row) {
      row.count += 1
      row.excerpt = excerpt ?? row.excerpt
    } else rows.set(key, { remoteId: item.remoteId, reason, excerpt, count: 1 })
  }
  return [...rows.values()]
}

/**
 * Saves a page's quarantined items (sanitized: no NUL, no lone surrogate), grouped by
 * `groupQuarantine`. Releasing what was quarantined under the ids that arrived as good records
 * (except what this page quarantines again under them: a record may be good while a child of it
 * is not) is part of the page's statement (page.write.ts).
 */
export async function saveQuarantine(tx: Tx, stream: StreamRef, rows: readonly GroupedQuarantine[], runId: number | null): Promise<void> {
  if (rows.length === 0) return
  await tx`
    insert into elsync.quarantine as q (connection, stream, remote_id, reason, excerpt, occurrences, last_run_id)
    select ${stream.connection}, ${stream.stream}, u.remote_id, u.reason, u.excerpt, u.n, ${runId}::bigint
    from unnest(${rows.map((r) => r.remoteId) as string[]}::text[], ${rows.map((r) => r.reason)}::text[],
                ${rows.map((r) => r.excerpt) as string[]}::text[], ${rows.map((r) => r.count)}::int[])
      as u(remote_id, reason, excerpt, n)
    on conflict (connection, stream, (coalesce(remote_id, '')), reason) do update set
      excerpt = coalesce(excluded.excerpt, q.excerpt), last_seen_at = now(),
      occurrences = q.occurrences + excluded.occurrences, last_run_id = excluded.last_run_id`
}

/** After a complete scan: rows the scan did not quarantine again are fixed or gone at the source. */
export async function dropUnseenQuarantine(tx: Tx, stream: StreamRef, runId: number): Promise<void> {
  await tx`delete from elsync.quarantine q
    where q.connection = ${stream.connection} and q.stream = ${stream.stream} and q.last_run_id is distinct from ${runId}`
}
