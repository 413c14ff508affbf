/**
 * Glossary
 * - connection: one configured API account (kind + baseUrl + auth), e.g. `elean`.
 * - stream: one collection read from a connection (an Elementum alias, an Elean project).
 * - record: one item of a stream, mirrored as one row keyed by (connection, stream, remote_id).
 * - cursor: the connector's JSON bookmark of how far a stream has been read; stored with
 *   the page it follows, in the same transaction.
 * - run: one pass over one stream (incremental or full), recorded in `sync_runs`.
 * - scan: a full run; only a complete, error-free scan may mark unseen records deleted.
 * - mapping: a declared pairing of two streams and their fields (see config).
 * - link: the pairing of two records, one per side of a mapping.
 * - base: the field values both sides of a link agreed on after the last push.
 * - outbox: writes waiting to be pushed to a connector, claimed with leases.
 * - quarantine: items of a stream that could not be mirrored (no id, unusable content, an id
 *   shared by different items), kept aside with the reason while the rest of the stream goes on.
 */

export interface StreamRef {
  connection: string
  stream: string
}

/** A connector-defined JSON value; the engine stores it and hands it back, never reads it. */
export type Cursor = unknown

export type StatusCategory = 'todo' | 'in_progress' | 'done'

/** A record normalized to the common shape by its connector. */
export interface RemoteRecord {
  remoteId: string
  externalKey?: string | null
  title?: string | null
  status?: string | null
  statusCategory?: StatusCategory | null
  priority?: string | null
  dueAt?: string | null
  description?: string | null
  assignees?: readonly { id?: string | null; name?: string | null }[]
  /** Every other source field, by its source name. */
  fields?: Record<string, unknown>
  remoteCreatedAt?: string | null
  remoteUpdatedAt?: string | null
  /** Who created the record, as the source names people (a name, an e-mail or an id), where it says. */
  createdBy?: string | null
  /** Who last changed it, likewise: the actor of the change this read observes. */
  updatedBy?: string | null
  /** The source document as read (the connector has already redacted secrets). */
  document: unknown
}

export interface RemoteComment {
  parentRemoteId: string
  commentId: string
  body: string | null
  author: string | null
  createdAt: string | null
  origin?: 'native' | 'synced'
  document: unknown
}

export interface RemoteAttachment {
  parentRemoteId: string
  attachmentId: string
  filename: string | null
  mediaType: string | null
  size: number | null
  createdAt: string | null
  document: unknown
}

export interface RemoteRelation {
  parentRemoteId: string
  relatedRemoteId: string
  relatedStream: string | null
  relationId: string | null
}

/** A person watching a record; copied between systems by email. */
export interface RemoteWatcher {
  parentRemoteId: string
  /** Lower-cased; null when the vendor shows none (such a watcher cannot be copied). */
  email: string | null
  name: string | null
  userId: string | null
}

/** Child objects read for some parents; each listed parent's set is replaced as a whole. */
export interface ChildSet<T> {
  parents: readonly string[]
  items: readonly T[]
}

/**
 * An item of a page that cannot be mirrored. `remoteId` is its id when it has one (normalized
 * to a string); `excerpt` is a short, already redacted piece of the source item for analysts.
 * The reason is stable text (no page numbers or positions): the quarantine counts repeats of
 * the same (id, reason).
 */
export interface QuarantinedItem {
  remoteId: string | null
  reason: string
  excerpt?: string
}

/** One page as yielded by a connector. */
export interface Page {
  records: readonly RemoteRecord[]
  /** The cursor to store once this page is saved; `undefined` keeps the stored one. */
  cursor?: Cursor
  comments?: ChildSet<RemoteComment>
  attachments?: ChildSet<RemoteAttachment>
  relations?: ChildSet<RemoteRelation>
  /** Read only where a mapping copies watchers from the stream (one more request per record). */
  watchers?: ChildSet<RemoteWatcher>
  /**
   * Records of this page whose children (comments, attachments, related items) could not be
   * read after the retries. They are in none of the child sets, so their stored children
   * stay untouched; the connector reads them again on a later poll.
   */
  staleChildren?: readonly string[]
  /**
   * Items of this page that could not be read as records: they are left out of `records` and
   * quarantined, and the rest of the page is saved. An item with an id counts as seen by a
   * full scan (it exists at the source), so its stored record, if any, is kept as it was.
   */
  quarantined?: readonly QuarantinedItem[]
  /**
   * Full scans only: what this scan has seen so far is unreliable (offset paging drifted)
   * and the connector starts over. Membership is cleared before this page is saved, so a
   * record read before it was deleted cannot count as seen. Records already saved stay.
   */
  restartScan?: boolean
}

export type ReadMode = 'incremental' | 'full'
export type ChangeSource = 'poll' | 'push' | 'resync'
export type ChangeOp = 'insert' | 'update' | 'delete' | 'restore'

/** `{field: {old, new}}` keyed by normalized column name or `fields.<source name>`. */
export type ChangedFields = Record<string, { old: unknown; new: unknown }>
