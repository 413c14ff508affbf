import type { ChangeFeed, FeedChange, FeedPage, FeedRead } from '../engine/ports.js'
import type { Sql, Tx } from './client.js'

/**
 * The change log read in commit order, from an offset a consumer stores.
 *
 * `record_changes.id` is taken from a sequence before the writing transaction commits, so
 * with concurrent writers a lower id can become visible after a higher one: a reader that
 * kept "the last id" would skip it forever. Each row also carries its writing transaction
 * (`txid`, set by default to `pg_current_xact_id()`), and the feed is ordered by (txid, id)
 * and read only below the xmin of the reading statement's snapshot: every transaction below
 * xmin has ended, so all its rows are visible now or never will be, and any transaction
 * that commits later has a txid at or above that xmin, hence above every offset handed out.
 * Only this database's transactions can write its rows, so the horizon is the oldest of them
 * still running (see `HORIZON`): a writing transaction in another database on the same server
 * (another application's, a CREATE DATABASE) does not hold the feed back. A long-running
 * writing transaction in this database does, until it ends; it never makes the feed skip.
 */

interface ChangeRow {
  txid: string
  id: string
  record_id: string
  connection: string
  stream: string
  remote_id: string
  version: number
  op: FeedChange['op']
  changed: FeedChange['changed']
  source: FeedChange['source']
  run_id: string | null
  outbox_id: string | null
  observed_at: Date
}

const toChange = (r: ChangeRow): FeedChange => ({
  offset: { txid: r.txid, id: r.id },
  recordId: r.record_id,
  connection: r.connection,
  stream: r.stream,
  remoteId: r.remote_id,
  version: r.version,
  op: r.op,
  changed: r.changed,
  source: r.source,
  runId: r.run_id === null ? null : Number(r.run_id),
  outboxId: r.outbox_id === null ? null : Number(r.outbox_id),
  observedAt: r.observed_at,
})

/**
 * The feed's horizon in the reading statement's snapshot: its xmax, or the oldest transaction
 * it counts as running that may belong to this database, whichever is lower. A running
 * transaction is passed over only when pg_stat_activity shows its backend connected to another
 * database (a backend writes to one database only); one it does not show (a prepared
 * transaction, a backend that ended meanwhile, a view without the privilege) holds the horizon,
 * as the snapshot's xmin always did.
 */
const HORIZON = `(select least(pg_snapshot_xmax(s.snap), (
    select min(x.xid) from pg_snapshot_xip(s.snap) as x(xid)
    where not exists (
      select 1 from pg_stat_activity a
      where a.backend_xid = xid(x.xid) and a.datid is not null
        and a.datid <> (select oid from pg_database where datname = current_database()))))
  from (select pg_current_snapshot() as snap) s)`

const COLUMNS = 'c.txid, c.id, c.record_id, c.connection, c.stream, c.remote_id, c.version, c.op, c.changed, c.source, c.run_id, c.outbox_id, c.observed_at'

/**
 * xid8 and bigint arrive as decimal strings. One statement, so that the horizon is taken from the very snapshot the rows are read in
 * (`pg_current_snapshot()` is the statement's snapshot under read committed); an xmin taken
 * in an earlier statement could let a transaction that committed in between slip below it.
 */
function selectPage(tx: Tx, opts: FeedRead) {
  const txid = opts.after?.txid ?? '0'
  const id = opts.after?.id ?? '0'
  const limit = Math.max(1, Math.floor(opts.limit))
  const streams = opts.streams ?? []
  if (streams.length === 0) {
    return tx<ChangeRow[]>`
      select ${tx.unsafe(COLUMNS)}
      from elsync.record_changes c
      where (c.txid, c.id) > (${txid}::xid8, ${id}::bigint) and c.txid < ${tx.unsafe(HORIZON)}
      order by c.txid, c.id
      limit ${limit}`
  }
  // per stream, an index range read of at most `limit` rows, merged in feed order
  return tx<ChangeRow[]>`
    select c.* from unnest(${streams.map((s) => s.connection)}::text[], ${streams.map((s) => s.stream)}::text[]) as s(connection, stream)
    cross join lateral (
      select ${tx.unsafe(COLUMNS)}
      from elsync.record_changes c
      where c.connection = s.connection and c.stream = s.stream
        and (c.txid, c.id) > (${txid}::xid8, ${id}::bigint) and c.txid < ${tx.unsafe(HORIZON)}
      order by c.txid, c.id
      limit ${limit}
    ) c
    order by c.txid, c.id
    limit ${limit}`
}

/** Up to `limit` changes after `after`, in commit order, and the offset to store once they are handled. */
export async function readChanges(sql: Sql, opts: FeedRead): Promise<FeedPage> {
  const rows = await sql.begin(async (tx) => {
    // a plan cached while the log was short could scan all of it on every read
    await tx`set local plan_cache_mode = force_custom_plan`
    return selectPage(tx, opts)
  })
  const changes = rows.map(toChange)
  return { changes, next: changes.at(-1)?.offset ?? opts.after }
}

/** The engine's `ChangeFeed` over Postgres. */
export function createPgChangeFeed(sql: Sql): ChangeFeed {
  return { read: (opts) => readChanges(sql, opts) }
}
