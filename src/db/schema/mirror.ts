import { sql } from 'drizzle-orm'
import { bigint, bigserial, index, integer, jsonb, text, uniqueIndex } from 'drizzle-orm/pg-core'
import { elsync, tz, xid8 } from './common.js'

/** The mirror: records, their history and their children (comments, attachments, related items, watchers) as each system holds them. */

/** One row per (connection, stream, remote_id): the latest normalized state of a record. */
export const records = elsync.table(
  'records',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    connection: text('connection').notNull(),
    stream: text('stream').notNull(),
    remoteId: text('remote_id').notNull(),
    externalKey: text('external_key'),
    title: text('title'),
    status: text('status'),
    statusCategory: text('status_category'),
    priority: text('priority'),
    dueAt: tz('due_at'),
    description: text('description'),
    assignees: jsonb('assignees').notNull().default(sql`'[]'::jsonb`),
    fields: jsonb('fields').notNull().default(sql`'{}'::jsonb`),
    remoteCreatedAt: tz('remote_created_at'),
    remoteUpdatedAt: tz('remote_updated_at'),
    /** The normalized values exactly as diffed (engine `Snapshot`), so diffs never depend on column formats. */
    snapshot: jsonb('snapshot').notNull(),
    /** The source document as read, with secrets replaced by a redaction marker. */
    document: jsonb('document').notNull(),
    contentHash: text('content_hash').notNull(),
    version: integer('version').notNull(),
    firstSeenAt: tz('first_seen_at').notNull().defaultNow(),
    lastSeenAt: tz('last_seen_at').notNull().defaultNow(),
    deletedAt: tz('deleted_at'),
    /** Complete scans in a row that did not see this live record (deleted at a threshold). */
    missedScans: integer('missed_scans').notNull().default(0),
    /** Since when this record's children (comments, attachments, related items) could not be read; null once a page brought them. */
    childrenStaleSince: tz('children_stale_since'),
    /** Who created the record and who last changed it, where the source says (engine `Snapshot`). */
    createdBy: text('created_by'),
    updatedBy: text('updated_by'),
  },
  (t) => [
    uniqueIndex('records_natural_key').on(t.connection, t.stream, t.remoteId),
    // Partial, so that it can only serve lookups by external key: without statistics the planner
    // took it for a (connection, stream) scan of the page read, filtering remote_id row by row.
    index('records_external_key').on(t.connection, t.stream, t.externalKey).where(sql`${t.externalKey} is not null`),
    // Few records are stale at a time: clearing the mark per page and counting it stay index probes.
    index('records_children_stale').on(t.connection, t.stream, t.remoteId).where(sql`${t.childrenStaleSince} is not null`),
  ],
)

/**
 * The change log: one row per insert/update/delete/restore with `{field: {old, new}}`, and
 * what caused it. Consumers follow it by `(txid, id)`, the writing transaction first: ids
 * are taken before commit, so a lower id can become visible after a higher one (see feed.store.ts).
 */
export const recordChanges = elsync.table(
  'record_changes',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /**
     * The record's `id`. No foreign key: records are never deleted (a deletion is a soft delete and
     * a history row), and the key's check cost a lookup of the record for every history row the
     * ingest appends (issue 13).
     */
    recordId: bigint('record_id', { mode: 'number' }).notNull(),
    connection: text('connection').notNull(),
    stream: text('stream').notNull(),
    remoteId: text('remote_id').notNull(),
    version: integer('version').notNull(),
    op: text('op').notNull(),
    changed: jsonb('changed').notNull(),
    /** poll | push | resync */
    source: text('source').notNull(),
    /** The sync run that read the change (polls, resyncs, and deletions found by a full scan). No foreign key: runs may be pruned before history. */
    runId: bigint('run_id', { mode: 'number' }),
    /** The outbox row whose push wrote the change. */
    outboxId: bigint('outbox_id', { mode: 'number' }),
    /** The writing transaction, set by the database so that no writer can get it wrong. */
    txid: xid8('txid').notNull().default(sql`pg_current_xact_id()`),
    observedAt: tz('observed_at').notNull().defaultNow(),
    /** Who made the change, where the source says (see engine `actorOf`); null for deletions. */
    actor: text('actor'),
    /** When the source says the change happened: the record's last-modified time after it; null for deletions. */
    changedAt: tz('changed_at'),
  },
  (t) => [
    uniqueIndex('record_changes_record_version').on(t.recordId, t.version),
    index('record_changes_feed').on(t.txid, t.id),
    index('record_changes_stream_feed').on(t.connection, t.stream, t.txid, t.id),
  ],
)

export const recordComments = elsync.table(
  'record_comments',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    connection: text('connection').notNull(),
    stream: text('stream').notNull(),
    remoteId: text('remote_id').notNull(),
    commentId: text('comment_id').notNull(),
    body: text('body'),
    author: text('author'),
    createdAt: tz('created_at'),
    origin: text('origin').notNull().default('native'),
    document: jsonb('document').notNull(),
    contentHash: text('content_hash').notNull(),
    firstSeenAt: tz('first_seen_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('record_comments_key').on(t.connection, t.stream, t.remoteId, t.commentId)],
)

export const recordAttachments = elsync.table(
  'record_attachments',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    connection: text('connection').notNull(),
    stream: text('stream').notNull(),
    remoteId: text('remote_id').notNull(),
    attachmentId: text('attachment_id').notNull(),
    filename: text('filename'),
    mediaType: text('media_type'),
    size: bigint('size', { mode: 'number' }),
    createdAt: tz('created_at'),
    document: jsonb('document').notNull(),
    contentHash: text('content_hash').notNull(),
    firstSeenAt: tz('first_seen_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('record_attachments_key').on(t.connection, t.stream, t.remoteId, t.attachmentId)],
)

export const recordRelations = elsync.table(
  'record_relations',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    connection: text('connection').notNull(),
    stream: text('stream').notNull(),
    remoteId: text('remote_id').notNull(),
    relatedRemoteId: text('related_remote_id').notNull(),
    relatedStream: text('related_stream'),
    relationId: text('relation_id'),
    firstSeenAt: tz('first_seen_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('record_relations_key').on(t.connection, t.stream, t.remoteId, t.relatedRemoteId)],
)

/** Watchers of records (where a mapping copies them), keyed by lower-cased email (`id:<user id>` without one). */
export const recordWatchers = elsync.table(
  'record_watchers',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    connection: text('connection').notNull(),
    stream: text('stream').notNull(),
    remoteId: text('remote_id').notNull(),
    watcherKey: text('watcher_key').notNull(),
    email: text('email'),
    name: text('name'),
    userId: text('user_id'),
    contentHash: text('content_hash').notNull(),
    firstSeenAt: tz('first_seen_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('record_watchers_key').on(t.connection, t.stream, t.remoteId, t.watcherKey)],
)
