import { sql } from 'drizzle-orm'
import { bigint, bigserial, boolean, check, customType, index, integer, jsonb, pgSchema, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core'

/**
 * The mirror's tables, all in schema `elsync`. Analysts read the views defined in
 * the custom migration (records_current, record_history, comments, ...), never these
 * tables directly: the tables may change shape, the views only gain columns.
 */
export const elsync = pgSchema('elsync')

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'string' })

/** A 64-bit transaction id (Postgres 13+); read as a decimal string, beyond JavaScript's safe integers. */
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' })

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
    recordId: bigint('record_id', { mode: 'number' })
      .notNull()
      .references(() => records.id),
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

// ------------------------------------------------------------------ the write side (reconcile and push)

/**
 * Per mapping: where reconcile is in the change log (the feed offset, moved in the same
 * transaction as the links and outbox rows it produced), whether an admin paused it, and
 * which streams its sides are (registered at start-up from the config, for the analyst views).
 */
export const mappingOffsets = elsync.table('mapping_offsets', {
  mappingId: text('mapping_id').primaryKey(),
  offsetTxid: xid8('offset_txid'),
  offsetId: bigint('offset_id', { mode: 'number' }),
  paused: boolean('paused').notNull().default(false),
  leftConnection: text('left_connection'),
  leftStream: text('left_stream'),
  rightConnection: text('right_connection'),
  rightStream: text('right_stream'),
  updatedAt: tz('updated_at').notNull().defaultNow(),
})

/**
 * A link pairs a record of a mapping's left stream with its counterpart on the right, and
 * keeps the base of the three-way merge. A `creating` link has one side still null: its
 * create is in the outbox, and the push fills the id in.
 */
export const recordLinks = elsync.table(
  'record_links',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    mappingId: text('mapping_id').notNull(),
    leftRemoteId: text('left_remote_id'),
    rightRemoteId: text('right_remote_id'),
    state: text('state').notNull(),
    /** `{field index: {left, right}}`, see engine `Base`. */
    base: jsonb('base').notNull().default(sql`'{}'::jsonb`),
    /** Fields an open manual conflict holds back. */
    heldFields: jsonb('held_fields').notNull().default(sql`'[]'::jsonb`),
    createdAt: tz('created_at').notNull().defaultNow(),
    lastSyncedAt: tz('last_synced_at'),
  },
  (t) => [
    uniqueIndex('record_links_left').on(t.mappingId, t.leftRemoteId).where(sql`${t.leftRemoteId} is not null`),
    uniqueIndex('record_links_right').on(t.mappingId, t.rightRemoteId).where(sql`${t.rightRemoteId} is not null`),
    check('record_links_state', sql`${t.state} in ('linked', 'creating', 'unlinked')`),
    check('record_links_one_side', sql`${t.leftRemoteId} is not null or ${t.rightRemoteId} is not null`),
  ],
)

/**
 * Every conflict a merge met (both sides changed a field to different values), resolved by
 * the mapping's policy on the spot, or `open` until an admin picks a winner (`manual`).
 * At most one open conflict per link and field: a later change updates it.
 */
export const fieldConflicts = elsync.table(
  'field_conflicts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    mappingId: text('mapping_id').notNull(),
    linkId: bigint('link_id', { mode: 'number' })
      .notNull()
      .references(() => recordLinks.id),
    field: text('field').notNull(),
    leftValue: jsonb('left_value'),
    rightValue: jsonb('right_value'),
    base: jsonb('base'),
    policy: text('policy').notNull(),
    winner: text('winner'),
    state: text('state').notNull(),
    createdAt: tz('created_at').notNull().defaultNow(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
    resolvedAt: tz('resolved_at'),
    /** `policy` when the mapping's policy decided, else who resolved it. */
    resolvedBy: text('resolved_by'),
  },
  (t) => [
    uniqueIndex('field_conflicts_open').on(t.linkId, t.field).where(sql`${t.state} = 'open'`),
    index('field_conflicts_mapping').on(t.mappingId, t.state),
    check('field_conflicts_state', sql`${t.state} in ('open', 'resolved')`),
    check('field_conflicts_winner', sql`${t.winner} is null or ${t.winner} in ('left', 'right')`),
  ],
)

/**
 * The writes reconcile asked for, and the ledger of what the push did with them. A row is
 * claimed by an executor with a lease (`lease_owner` until `lease_expires_at`); its state stays
 * `pending`/`failed` while in flight, and only the lease holder may mark it.
 */
export const outbox = elsync.table(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    mappingId: text('mapping_id').notNull(),
    linkId: bigint('link_id', { mode: 'number' })
      .notNull()
      .references(() => recordLinks.id),
    /** `left` or `right`: the side written to. */
    target: text('target').notNull(),
    connection: text('connection').notNull(),
    stream: text('stream').notNull(),
    op: text('op').notNull(),
    /** The target record; null for a create until it is sent. */
    remoteId: text('remote_id'),
    /** Target field name → value (`values` is a reserved word). */
    fieldValues: jsonb('field_values').notNull(),
    marker: text('marker'),
    /** The field decisions behind this write (provenance). */
    decisions: jsonb('decisions').notNull().default(sql`'[]'::jsonb`),
    state: text('state').notNull().default('pending'),
    /** Claims so far: counted when a row is claimed, so a push that kills its executor still counts. */
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: tz('next_attempt_at').notNull().defaultNow(),
    leaseOwner: text('lease_owner'),
    leaseExpiresAt: tz('lease_expires_at'),
    lastErrorCode: text('last_error_code'),
    lastError: text('last_error'),
    lastStatus: integer('last_status'),
    responseExcerpt: text('response_excerpt'),
    /** The later row of the same link, target and op that replaced this one before it was claimed. */
    supersededBy: bigint('superseded_by', { mode: 'number' }),
    createdAt: tz('created_at').notNull().defaultNow(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
    sentAt: tz('sent_at'),
  },
  (t) => [
    // what claims scan: only rows still to push
    index('outbox_ready').on(t.id).where(sql`${t.state} in ('pending', 'failed')`),
    index('outbox_link').on(t.linkId, t.target, t.id),
    index('outbox_stream').on(t.connection, t.stream, t.state),
    check('outbox_state', sql`${t.state} in ('pending', 'sent', 'failed', 'dead', 'ignored', 'superseded')`),
    check('outbox_op', sql`${t.op} in ('create', 'update', 'delete', 'attachment', 'comment', 'relate', 'unrelate', 'watch')`),
    check('outbox_target', sql`${t.target} in ('left', 'right')`),
  ],
)

/**
 * Attachments copied between linked records (engine children.attachments.ts): one row per
 * source attachment and mapping, written with its `attachment` outbox row (`pending`) and
 * completed in the same transaction as that row's mark: `copied`, `linked` (a link in its
 * place) or `skipped`, with the reason. An attachment that is a copy's target is never copied
 * back. Analysts read the `attachment_copies` view.
 */
export const attachmentLinks = elsync.table(
  'attachment_links',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    mappingId: text('mapping_id').notNull(),
    linkId: bigint('link_id', { mode: 'number' })
      .notNull()
      .references(() => recordLinks.id),
    /** The row that copies it. No foreign key: the outbox may be pruned before this record. */
    outboxId: bigint('outbox_id', { mode: 'number' }),
    sourceConnection: text('source_connection').notNull(),
    sourceStream: text('source_stream').notNull(),
    sourceRemoteId: text('source_remote_id').notNull(),
    sourceAttachmentId: text('source_attachment_id').notNull(),
    filename: text('filename'),
    size: bigint('size', { mode: 'number' }),
    targetConnection: text('target_connection').notNull(),
    targetStream: text('target_stream').notNull(),
    targetRemoteId: text('target_remote_id').notNull(),
    /** The copied file, or the url-link placed instead. */
    targetAttachmentId: text('target_attachment_id'),
    /** The comment carrying the link, where it is one. */
    targetCommentId: text('target_comment_id'),
    state: text('state').notNull().default('pending'),
    reason: text('reason'),
    createdAt: tz('created_at').notNull().defaultNow(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('attachment_links_source').on(t.mappingId, t.sourceConnection, t.sourceStream, t.sourceRemoteId, t.sourceAttachmentId),
    index('attachment_links_target').on(t.targetConnection, t.targetStream, t.targetRemoteId, t.targetAttachmentId),
    index('attachment_links_outbox').on(t.outboxId),
    check('attachment_links_state', sql`${t.state} in ('pending', 'copied', 'linked', 'skipped')`),
  ],
)

// ------------------------------------------------------------------ children of links (related items, watchers)

/**
 * A related item of a mapping, paired across its two sides: the relation `parent → related` on
 * the side it was first seen (`origin`), and its copy on the other side once both ends are
 * linked. `waiting`: an end is not linked yet (the other side's ids are null); `copying`: the
 * relate is in the outbox (`outbox_id`); `linked`: on both sides; `removing`: an unrelate is in
 * the outbox after one side removed it; `ended`: a one-way copy removed on its target, not copied
 * again. `seen_left/right`: the mirror has shown it on that side, so its absence there is a removal.
 */
export const relationLinks = elsync.table(
  'relation_links',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    mappingId: text('mapping_id').notNull(),
    origin: text('origin').notNull(),
    leftParentId: text('left_parent_id'),
    leftRelatedId: text('left_related_id'),
    rightParentId: text('right_parent_id'),
    rightRelatedId: text('right_related_id'),
    state: text('state').notNull(),
    seenLeft: boolean('seen_left').notNull().default(false),
    seenRight: boolean('seen_right').notNull().default(false),
    /** The last relate or unrelate queued for it. No foreign key: the ledger may be pruned. */
    outboxId: bigint('outbox_id', { mode: 'number' }),
    createdAt: tz('created_at').notNull().defaultNow(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('relation_links_left').on(t.mappingId, t.leftParentId, t.leftRelatedId).where(sql`${t.leftParentId} is not null`),
    uniqueIndex('relation_links_right').on(t.mappingId, t.rightParentId, t.rightRelatedId).where(sql`${t.rightParentId} is not null`),
    check('relation_links_state', sql`${t.state} in ('waiting', 'copying', 'linked', 'removing', 'ended')`),
    check('relation_links_origin', sql`${t.origin} in ('left', 'right')`),
  ],
)

/**
 * A watcher a mapping copied (or tried to) to one side of a link: one row per (link, target, email),
 * so a watcher is added once and never again after someone removes it there. What became of it
 * is the state of its outbox row (`ignored` with `user_unknown`: the target has no such user).
 */
export const watcherCopies = elsync.table(
  'watcher_copies',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    mappingId: text('mapping_id').notNull(),
    linkId: bigint('link_id', { mode: 'number' })
      .notNull()
      .references(() => recordLinks.id),
    target: text('target').notNull(),
    email: text('email').notNull(),
    outboxId: bigint('outbox_id', { mode: 'number' }),
    createdAt: tz('created_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('watcher_copies_key').on(t.linkId, t.target, t.email), check('watcher_copies_target', sql`${t.target} in ('left', 'right')`)],
)

// ------------------------------------------------------------------ children on the write side

/**
 * A human comment copied to its record's counterpart: planned by reconcile with its outbox row
 * (`outbox_id`), and given the copy's id on the target once the push has posted it. A comment
 * with a row here is never planned again, and a comment that is the target of one is a copy,
 * never copied back (whatever its text says).
 */
export const commentLinks = elsync.table(
  'comment_links',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    mappingId: text('mapping_id').notNull(),
    linkId: bigint('link_id', { mode: 'number' })
      .notNull()
      .references(() => recordLinks.id),
    /** The side of the original; the copy is on the other side. */
    sourceSide: text('source_side').notNull(),
    sourceCommentId: text('source_comment_id').notNull(),
    /** Null until the push has posted the copy (or found it after a crash). */
    targetCommentId: text('target_comment_id'),
    outboxId: bigint('outbox_id', { mode: 'number' }),
    createdAt: tz('created_at').notNull().defaultNow(),
    copiedAt: tz('copied_at'),
  },
  (t) => [
    uniqueIndex('comment_links_source').on(t.linkId, t.sourceSide, t.sourceCommentId),
    index('comment_links_target').on(t.targetCommentId).where(sql`${t.targetCommentId} is not null`),
    index('comment_links_outbox').on(t.outboxId),
    check('comment_links_side', sql`${t.sourceSide} in ('left', 'right')`),
  ],
)

/**
 * When each record's children were last read, kept apart from `records` so that reading them
 * writes no record row: the child round-robin reads the records read longest ago first.
 */
export const childReads = elsync.table(
  'child_reads',
  {
    connection: text('connection').notNull(),
    stream: text('stream').notNull(),
    remoteId: text('remote_id').notNull(),
    readAt: tz('read_at').notNull().defaultNow(),
    /**
     * The record's `remote_updated_at` in the mirror when its children were read. A read that
     * finds the record at this same time again (an incremental window's lookback) reads no children.
     */
    remoteUpdatedAt: tz('remote_updated_at'),
  },
  (t) => [primaryKey({ columns: [t.connection, t.stream, t.remoteId] })],
)
