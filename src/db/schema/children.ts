import { sql } from 'drizzle-orm'
import { bigint, bigserial, boolean, check, index, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core'
import { elsync, tz } from './common.js'
import { recordLinks } from './writes.js'

/** Children of links (related items, watchers) and children on the write side (comments, child reads). */

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
