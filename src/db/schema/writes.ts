import { sql } from 'drizzle-orm'
import { bigint, bigserial, boolean, check, index, integer, jsonb, text, uniqueIndex } from 'drizzle-orm/pg-core'
import { elsync, tz, xid8 } from './common.js'

/** The write side (reconcile and push): mapping offsets, links, conflicts, the outbox and attachment copies. */

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
