import type { Snapshot } from './record.js'
import type { FeedOffset } from './ports.js'
import type { ChangeOp, RemoteRecord, StreamRef } from './types.js'

/**
 * The write side's shared vocabulary: a mapping as reconcile sees it, links and their base,
 * the decisions reconcile takes, and the outbox rows the executor pushes. Pure types; the
 * Postgres stores (src/db) and the engine modules (reconcile, push) both speak them.
 *
 * Glossary (see also types.ts)
 * - side: `left` or `right` of a mapping; the other side is the counterpart.
 * - base: per mapped field, the values both sides agreed on after the last push, each in its
 *   own side's normalized form (`{left, right}`); a side changed when its current normalized
 *   value differs from its base value.
 * - echo: our own push read back by the next poll; it equals the base, so nothing is pushed back.
 * - create intent: a link row whose counterpart does not exist yet; its create carries a marker
 *   line, so that after a crash the record is looked up by marker instead of created twice.
 */

export type Side = 'left' | 'right'
export const otherSide = (s: Side): Side => (s === 'left' ? 'right' : 'left')

export type FieldDirection = 'both' | 'left-to-right' | 'right-to-left'
export type CreatePolicy = 'both' | 'left-to-right' | 'right-to-left' | 'none'
export type ConflictPolicy = 'newest' | 'left' | 'right' | 'manual'
export type DeletePolicy = 'ignore' | 'propagate' | 'unlink'

export interface MappedField {
  left: string
  right: string
  direction: FieldDirection
  /**
   * Left value → right value (read backwards right-to-left); filled from `valuesFrom` at each
   * reconcile (value-maps.ts). A list of right values: the first is written left-to-right, and
   * each of them maps back to the left value (several statuses of one side that the other
   * side knows as one).
   */
  values?: Readonly<Record<string, string | readonly string[]>>
  /** The value map is a lookup table of this connection (by id or title). */
  valuesFrom?: { connection: string; lookup: string }
}

/** A mapping as reconcile needs it (the config's validated mapping is assignable to it). */
export interface MappingSpec {
  id: string
  left: StreamRef & { filter?: string | undefined }
  right: StreamRef & { filter?: string | undefined }
  create: CreatePolicy
  conflict: ConflictPolicy
  delete: DeletePolicy
  fields: readonly MappedField[]
  /** The create marker setting (template or prefix, see engine/attribution.ts); default `elsync`. */
  marker?: string | undefined
  /** Which way attachments are copied between linked records, and what a file too large for the target becomes (children.attachments.ts). */
  attachments?: { direction: 'none' | FieldDirection; oversize: 'link' | 'comment' | 'skip' } | undefined
  /** Which way related items are copied (default none). */
  related?: SyncDirection | undefined
  /** Which way watchers are copied (default none). */
  watchers?: SyncDirection | undefined
  /** Which way human comments are copied (engine/children.comments.ts); default none. */
  comments?: 'none' | 'left-to-right' | 'right-to-left' | 'both' | undefined
}

export type SyncDirection = 'none' | 'left-to-right' | 'right-to-left' | 'both'

/** A field's agreed value on both sides, each normalized by its own side's catalog. */
export interface BaseValue {
  left: unknown
  right: unknown
  /**
   * A write to `target` queued and not yet read back: until the target shows the written
   * value, it showing `previous` (its value when the write was planned) is no change, so a
   * reconcile before the push lands does not copy the old value back.
   */
  pending?: { target: Side; previous: unknown }
}

/** Keyed by the field's index in `MappingSpec.fields` as a string ("0", "1", …): stable while the mapping's field list is. */
export type Base = Record<string, BaseValue>

export type LinkState = 'linked' | 'creating' | 'unlinked'

export interface Link {
  id: number
  mappingId: string
  leftRemoteId: string | null
  rightRemoteId: string | null
  state: LinkState
  base: Base
  /** Fields held by an open `manual` conflict: not propagated until an admin resolves it. */
  heldFields: readonly string[]
}

/** A mirrored record as reconcile reads it. */
export interface MirroredRecord {
  stream: StreamRef
  remoteId: string
  snapshot: Snapshot
  deleted: boolean
  /** The vendor's own last-modified time (for `conflict: newest`), null when unknown. */
  remoteUpdatedAt: string | null
  /** The source document as mirrored: a create marker is looked for in it (the normalized description has it stripped). */
  document?: unknown
}

/** What a merge decided for one field; kept as provenance of every write. */
export interface FieldDecision {
  field: string
  base: BaseValue | null
  left: unknown
  right: unknown
  /** Which rule won: one side changed, both changed (the conflict policy), converged, held, a first merge or a create. */
  rule: 'left-changed' | 'right-changed' | 'converged' | 'conflict-newest' | 'conflict-left' | 'conflict-right' | 'conflict-manual' | 'initial' | 'create'
  /** The value written to the target, in the target's field form; undefined when nothing is written. */
  written?: unknown
  target?: Side
  /** The target's field name `written` goes to. */
  name?: string
  /** Set when the value could not be written (an unmappable value, a field the target cannot set); nothing is written then. */
  error?: { code: string; message: string }
}

export interface ConflictRecord {
  field: string
  leftValue: unknown
  rightValue: unknown
  base: BaseValue | null
  policy: ConflictPolicy
  /** The side that won, or null while a `manual` conflict is open. */
  winner: Side | null
}

/** Record writes, and child writes of a linked record: relate/unrelate (related items), watch (watchers). */
export type OutboxOp = 'create' | 'update' | 'delete' | 'attachment' | 'comment' | ChildOp
export type ChildOp = 'relate' | 'unrelate' | 'watch'
export const CHILD_OPS: readonly ChildOp[] = ['relate', 'unrelate', 'watch']
export const isChildOp = (op: OutboxOp): op is ChildOp => (CHILD_OPS as readonly string[]).includes(op)

/** A write reconcile asks for; the executor turns `values` into the vendor's payload with the target's field catalog. */
export interface OutboxRequest {
  mappingId: string
  linkId: number
  target: Side
  stream: StreamRef
  op: OutboxOp
  /** The target record; null for a create. */
  remoteId: string | null
  /** Target field name → value, already projected (value maps, coercion) into the target's form. */
  values: Readonly<Record<string, unknown>>
  /** Creates: the marker line written at the end of the description. */
  marker?: string
  /** Why: the field decisions behind this write. */
  decisions: readonly FieldDecision[]
}

export type OutboxState = 'pending' | 'sent' | 'failed' | 'dead' | 'ignored' | 'superseded'

export interface OutboxRow extends OutboxRequest {
  id: number
  state: OutboxState
  /** Claims so far, this one included: `claim` counts an attempt before it runs, so one cut short by a crash still counts. */
  attempts: number
  lastError: string | null
  createdAt: Date
}

/** What a successful push did: the record as the vendor now stores it. */
export interface PushResult {
  remoteId: string
  record: RemoteRecord | null
  status?: number
  /** An `attachment` row: what became of the file, saved with the row's mark (see children.attachments.ts). */
  attachment?: AttachmentCopyResult
  /** Nothing was written, on purpose (a watcher the target does not know): the row is `ignored`, with this reason. */
  skipped?: { code: string; message: string }
  /** A child write (a comment): the child's id on the target; `remoteId` stays its parent record. */
  childId?: string
  /**
   * Fields of an update left out because the target's value moved since the write was planned
   * (a person edited it): the next reconcile merges them as a conflict. When every field was
   * left out nothing was sent (`record` is null).
   */
  skippedFields?: readonly SkippedField[]
}

export interface SkippedField {
  /** The mapped field's label (as in decisions and conflicts). */
  field: string
  /** The target's field name. */
  name: string
  /** What the write would have set. */
  planned: unknown
  /** What the target held when the write was planned, and what it holds now. */
  previous: unknown
  found: unknown
}

/** What an attachment copy did on the target: the file copied (or found there), a link placed instead, or nothing (skipped). */
export interface AttachmentCopyResult {
  state: 'copied' | 'linked' | 'skipped'
  /** The target's attachment (a copied file or an url-link); null when a comment carries the link or nothing was written. */
  targetAttachmentId: string | null
  /** The target's comment carrying the link. */
  targetCommentId: string | null
  /** Why it was linked or skipped, or that an earlier attempt's copy was found. */
  reason: string | null
}

export type MirrorOp = ChangeOp

// ------------------------------------------------------------------ ports (implemented in src/db)

/** One reconcile transaction: everything it writes commits together with the mapping's new offset. */
export interface ReconcileTx {
  findLink(mappingId: string, side: Side, remoteId: string): Promise<Link | null>
  /** A link by id (locked like findLink); null when it is not a link of this mapping. */
  findLinkById(mappingId: string, linkId: number): Promise<Link | null>
  createLink(mappingId: string, init: { leftRemoteId: string | null; rightRemoteId: string | null; state: LinkState; base: Base }): Promise<Link>
  /** Saves base, state, held fields and counterpart ids; sets `last_synced_at`. */
  updateLink(link: Link): Promise<void>
  loadRecord(stream: StreamRef, remoteId: string): Promise<MirroredRecord | null>
  /** Queues a write; a pending write of the same link, target and op that is not yet sent is superseded by it. */
  enqueue(req: OutboxRequest): Promise<number>
  recordConflict(linkId: number, mappingId: string, conflict: ConflictRecord): Promise<void>
  saveOffset(mappingId: string, offset: FeedOffset | null): Promise<void>
  /** Comment copies of linked records, in the same transaction (engine/children.comments.ts). */
  readonly comments?: CommentCopyTx
}

/** A human comment of a linked record not copied yet, as the comment planner reads it. */
export interface CommentCandidate {
  linkId: number
  /** The side the comment is on. */
  side: Side
  parentRemoteId: string
  /** The counterpart record; null while its create is still in the outbox (the create's push fills the row in). */
  targetRemoteId: string | null
  commentId: string
  body: string
  author: string | null
  createdAt: string | null
}

/** Comment copies as reconcile plans them (a store port, implemented in src/db/comments.store.ts). */
export interface CommentCopyTx {
  /**
   * Human comments on `side` of the mapping's linked records that were never copied, oldest first:
   * not copies themselves (no attribution footer, not the target of a comment link), not
   * planned before (no comment link from them).
   */
  candidates(mappingId: string, side: Side, stream: StreamRef, limit: number): Promise<CommentCandidate[]>
  /** Queues the copy (an outbox row, op `comment`) and links it to its original; null when it was linked already. */
  planCopy(c: CommentCandidate, req: OutboxRequest): Promise<number | null>
}

export interface ReconcileStore {
  offset(mappingId: string): Promise<FeedOffset | null>
  /** Runs `fn` in one transaction; with `rollback` (a dry run) nothing it wrote is kept. */
  transaction<T>(fn: (tx: ReconcileTx) => Promise<T>, opts?: { rollback?: boolean }): Promise<T>
}

export interface ClaimOptions {
  owner: string
  /** A claimed row not marked within this time may be claimed by another executor. */
  leaseMs: number
  limit: number
}

export interface PushFailure {
  code: string
  message: string
  status?: number
  /** When to try again; null parks the row as `dead`. */
  retryAt: Date | null
}

/** The outbox as the executor sees it: rows claimed with `FOR UPDATE SKIP LOCKED` and a lease. */
export interface OutboxStore {
  claim(opts: ClaimOptions): Promise<OutboxRow[]>
  /** The write succeeded: state `sent` (`ignored` when it skipped on purpose), the answer's excerpt, and for a create the link gets its counterpart. */
  markSent(row: OutboxRow, owner: string, result: PushResult): Promise<void>
  markFailed(row: OutboxRow, owner: string, failure: PushFailure): Promise<void>
  /** The heartbeat: renews the leases of rows this owner still holds; returns their ids (a row missing from it was lost). */
  extend(ids: readonly number[], owner: string, leaseMs: number): Promise<number[]>
  /** Gives back claimed rows that were never attempted (shutdown, an earlier row of the link failed): claimable at once, the attempt not counted. */
  release(ids: readonly number[], owner: string): Promise<void>
  /** An admin's retry of a dead row; false when there is no such dead row. */
  retry(id: number): Promise<boolean>
  /** Rows due now (pending, or failed and due) that another owner holds under a lease not run out yet: their ids. */
  heldElsewhere(owner: string): Promise<number[]>
  /**
   * Deletes finished rows (`sent`, `ignored`, `superseded`) last changed more than `olderThanMs`
   * ago; dead, pending and failed rows stay, and so does a sent row that settles a dead one
   * before it. Returns how many rows it deleted.
   */
  prune(olderThanMs: number): Promise<number>
}

/** A conflict as an admin's resolution finds it (locked until its transaction ends). */
export interface StoredConflict {
  id: number
  mappingId: string
  linkId: number
  /** The mapped field's label (`Status ↔ status`). */
  field: string
  state: 'open' | 'resolved'
}

/** One transaction of an admin's resolution: the link, both records, the write and the conflict commit together. */
export interface ConflictTx extends Pick<ReconcileTx, 'findLinkById' | 'loadRecord' | 'enqueue' | 'updateLink'> {
  lockConflict(id: number): Promise<StoredConflict | null>
  markResolved(id: number, winner: Side, by: string): Promise<void>
}

export interface ConflictStore {
  transaction<T>(fn: (tx: ConflictTx) => Promise<T>): Promise<T>
}
