import { sql } from 'drizzle-orm'
import { bigint, bigserial, index, integer, jsonb, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core'
import { elsync, tz } from './common.js'

/** The read side's bookkeeping: cursors, runs, full-scan marks, leases, refresh tokens and quarantined items. */

/** Cursor per stream, moved in the same transaction as the page it follows. */
export const streamState = elsync.table(
  'stream_state',
  {
    connection: text('connection').notNull(),
    stream: text('stream').notNull(),
    cursor: jsonb('cursor'),
    lastFullScanAt: tz('last_full_scan_at'),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.connection, t.stream] })],
)

/** One row per run of one stream (a poll, a resync, a full scan). */
export const syncRuns = elsync.table(
  'sync_runs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    connection: text('connection').notNull(),
    stream: text('stream').notNull(),
    mode: text('mode').notNull(),
    status: text('status').notNull(),
    startedAt: tz('started_at').notNull().defaultNow(),
    finishedAt: tz('finished_at'),
    durationMs: integer('duration_ms'),
    pages: integer('pages').notNull().default(0),
    recordsSeen: integer('records_seen').notNull().default(0),
    recordsChanged: integer('records_changed').notNull().default(0),
    recordsDeleted: integer('records_deleted').notNull().default(0),
    requests: integer('requests').notNull().default(0),
    error: text('error'),
    /** Items the run could not mirror (see `quarantine`). */
    quarantined: integer('quarantined').notNull().default(0),
    /** Records whose children the run could not read (their stored children were kept). */
    childrenStale: integer('children_stale').notNull().default(0),
    /** An admin's resync (`POST /v1/resync`): when it was asked for. The row waits in status `queued` until a replica runs it. */
    queuedAt: tz('queued_at'),
    /** An admin's resync: the run's window reaches back at least to here (the stored cursor is not moved back). */
    since: tz('since'),
  },
  (t) => [
    index('sync_runs_stream').on(t.connection, t.stream, t.id),
    // what the resync worker of every replica looks for: few rows, often none
    index('sync_runs_queued').on(t.id).where(sql`${t.status} = 'queued'`),
  ],
)

/**
 * Scratch membership of a full scan in progress: which remote ids the scan has seen.
 * Kept in Postgres (not memory) so memory stays flat in the size of a stream; rows
 * are removed when the scan completes or a later scan of the stream starts.
 */
export const scanSeen = elsync.table(
  'scan_seen',
  {
    runId: bigint('run_id', { mode: 'number' }).notNull(),
    remoteId: text('remote_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.remoteId] })],
)

/** Rotated OAuth2 refresh tokens, AES-256-GCM encrypted with ELSYNC_SECRET_KEY. */
export const connectionSecrets = elsync.table('connection_secrets', {
  connection: text('connection').primaryKey(),
  ciphertext: text('ciphertext').notNull(),
  updatedAt: tz('updated_at').notNull().defaultNow(),
})

/**
 * Who polls each stream: a lease with an owner, an expiry kept alive by a heartbeat, and
 * the last schedule tick that ran, per schedule, so that one cron tick of one stream runs
 * once across replicas. A row, not a session lock: it survives a dropped connection and
 * works behind a pooler in transaction mode; a replica that dies loses its leases at expiry.
 */
export const streamLeases = elsync.table(
  'stream_leases',
  {
    connection: text('connection').notNull(),
    stream: text('stream').notNull(),
    /** Null when released. */
    owner: text('owner'),
    expiresAt: tz('expires_at').notNull(),
    heartbeatAt: tz('heartbeat_at').notNull().defaultNow(),
    acquiredAt: tz('acquired_at').notNull().defaultNow(),
    /** `{schedule name: tick time}` of the last tick of each schedule that ran. */
    lastTicks: jsonb('last_ticks').notNull().default(sql`'{}'::jsonb`),
  },
  (t) => [primaryKey({ columns: [t.connection, t.stream] })],
)

/**
 * The daemons (replicas) alive on this database: each announces itself and renews its row like a
 * lease, so that each can take its fair share of the streams (⌈streams ÷ live replicas⌉ at
 * once). A replica that dies is no longer counted once its row expires.
 */
export const replicas = elsync.table('replicas', {
  owner: text('owner').primaryKey(),
  startedAt: tz('started_at').notNull().defaultNow(),
  expiresAt: tz('expires_at').notNull(),
})

/**
 * Items of a stream that could not be mirrored, with the reason: no id, content that cannot be
 * stored (nested too deep), an id shared by different items. One row per (stream, id, reason)
 * counts how often it was read; items without an id share one row per reason. A row goes when
 * its id arrives as a good record, or when a complete scan no longer reads it (`last_run_id`).
 */
export const quarantine = elsync.table(
  'quarantine',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    connection: text('connection').notNull(),
    stream: text('stream').notNull(),
    /** The item's id normalized to text, when it has one. */
    remoteId: text('remote_id'),
    reason: text('reason').notNull(),
    /** The start of the source item (at most about 500 characters), secrets already redacted. */
    excerpt: text('excerpt'),
    firstSeenAt: tz('first_seen_at').notNull().defaultNow(),
    lastSeenAt: tz('last_seen_at').notNull().defaultNow(),
    occurrences: integer('occurrences').notNull().default(1),
    /** The run that read it last. No foreign key: runs may be pruned. */
    lastRunId: bigint('last_run_id', { mode: 'number' }),
  },
  (t) => [uniqueIndex('quarantine_key').on(t.connection, t.stream, sql`coalesce(${t.remoteId}, '')`, t.reason)],
)
