import type { PreparedRecords } from './record.js'
import type { FieldCatalog } from './catalog.js'
import type {
  ChangedFields,
  ChangeOp,
  ChangeSource,
  Cursor,
  Page,
  ReadMode,
  RemoteAttachment,
  RemoteComment,
  RemoteRecord,
  RemoteRelation,
  RemoteWatcher,
  StreamRef,
} from './types.js'

/** What saving one page did. */
export interface ApplyResult {
  seen: number
  inserted: number
  updated: number
  restored: number
  unchanged: number
  /** History rows appended. */
  changes: number
  nulBytesStripped: number
  /** Items of the page quarantined instead of saved (the connector's and those the mirror could not store). */
  quarantined?: number
  /** Records of the page whose children were not read, or could not be stored (absent: the page's `staleChildren`). */
  childrenStale?: number
}

/** What caused a page's changes; recorded on each change row it appends. */
export interface ApplyOptions {
  source?: ChangeSource
  /** The sync run that read the page (polls and resyncs). */
  runId?: number
  /** The outbox row whose push wrote these values (source `push`). */
  outboxId?: number
  /** Set during a full scan: the page's ids count as seen by this run. */
  scanRunId?: number
  /** Scrubs secrets from the text of quarantined items (reason, excerpt) before it is stored. */
  redact?: (text: string) => string
  /** The page's records already made into mirror rows (`runStream` makes them ahead, see poll.ts). */
  prepared?: PreparedRecords
  /**
   * Called once the page's write is on its way to the database: `runStream` starts reading the
   * next page then, so that its parsing falls while the database writes this one.
   */
  writeSent?: () => void
}

export interface CompleteScanOptions {
  /** Refuse when more than this fraction of the live records would be deleted. */
  maxDeleteFraction: number
  /** An admin's confirmation: delete even above the fraction, at the first miss. */
  force?: boolean
  /**
   * Complete scans in a row that must miss a record before it is deleted (default 1).
   * More than one absorbs offset-paging drift that no page could reveal.
   */
  missedScansToDelete?: number
  source?: ChangeSource
}

/** How a run ended; `interrupted`: stopped on purpose (signal, shutdown) before it finished. */
export type RunStatus = 'succeeded' | 'failed' | 'interrupted'

export interface RunSummary {
  status: RunStatus
  pages: number
  recordsSeen: number
  recordsChanged: number
  recordsDeleted: number
  requests: number
  error?: string | null
  /** Items quarantined by the run. */
  quarantined?: number
  /** Records whose children could not be read in the run. */
  childrenStale?: number
}

/** The mirror as the engine sees it; implemented over Postgres by `createPgMirror`. */
export interface MirrorStore {
  /** Saves one page: records, history, children and cursor in one transaction. */
  applyPage(stream: StreamRef, page: Page, opts?: ApplyOptions): Promise<ApplyResult>
  /** Forgets which records a scan in progress has seen (the connector restarts its scan). */
  resetScan(runId: number): Promise<void>
  /** After a complete, error-free scan: soft-deletes live records the scan did not see. */
  completeScan(stream: StreamRef, runId: number, opts: CompleteScanOptions): Promise<{ deleted: number; live: number; pending: number }>
  getCursor(stream: StreamRef): Promise<Cursor | null>
  /** Opens a run; with `queuedRunId`, starts that queued run (an admin's resync, already claimed) instead of opening a new one. */
  startRun(stream: StreamRef, mode: ReadMode, queuedRunId?: number): Promise<number>
  finishRun(runId: number, summary: RunSummary): Promise<void>
  /**
   * Up to `limit` live records of the stream whose children were read longest ago (never read, or
   * left stale, first), leaving out those read since run `runId` started: the child round-robin.
   */
  childrenDue?(stream: StreamRef, runId: number, limit: number): Promise<string[]>
  /** The ids among `records` (just read) whose children must be read with them: see `ReadContext.childrenBehind`. */
  childrenBehind?(stream: StreamRef, records: readonly Pick<RemoteRecord, 'remoteId' | 'remoteUpdatedAt'>[]): Promise<Set<string>>
}

/**
 * A position in the change log: the writing transaction and the id of the last change read,
 * both decimal strings (xid8 and bigint), stored as they are.
 */
export interface FeedOffset {
  txid: string
  id: string
}

/** One row of the change log, with what caused it. */
export interface FeedChange {
  offset: FeedOffset
  recordId: string
  connection: string
  stream: string
  remoteId: string
  version: number
  op: ChangeOp
  changed: ChangedFields
  source: ChangeSource
  /** The sync run that read the change (polls, resyncs, deletions found by a full scan). */
  runId: number | null
  /** The outbox row whose push wrote it. */
  outboxId: number | null
  observedAt: Date
}

export interface FeedRead {
  /** Where the consumer stopped; null from the beginning. */
  after: FeedOffset | null
  limit: number
  /** Only these streams (all when absent). */
  streams?: readonly StreamRef[]
}

export interface FeedPage {
  changes: FeedChange[]
  /** The offset to store once the changes are handled: the last change's, or `after` when there were none. */
  next: FeedOffset | null
}

/**
 * The change log in commit order, for consumers that follow it by a stored offset (reconcile,
 * one offset per mapping). Reading from an offset never skips a change that commits later and
 * never returns one twice.
 */
export interface ChangeFeed {
  read(opts: FeedRead): Promise<FeedPage>
}

/** What a read needs besides the stream and its stored cursor. */
export interface ReadContext {
  mode: ReadMode
  signal: AbortSignal
  /** The read's start time: incremental windows end here. */
  startedAt: Date
  /** How far before the stored cursor an incremental window starts (lookback + measured clock skew). */
  lookbackMs: number
  /**
   * An admin's resync from a time: an incremental window starts no later than this, whatever
   * the stored cursor says. Only the window moves back: the cursor the read leaves is where it
   * would be anyway, so the next poll does not read the same window again.
   */
  since?: Date
  /**
   * Of records just read, the ids whose children must be read with them: the mirror does not hold
   * the record at this `remoteUpdatedAt` (new or changed), or last read its children at another
   * one, or holds them stale. A record read again unchanged (a window's lookback, a rescan) is not
   * among them, nor one held as it is whose children were never read (the engine's child
   * round-robin reads those first). The answer is the mirror's, so a new process knows what the
   * last one left unread. Absent (no mirror): every record the connector takes for changed is.
   */
  childrenBehind?(records: readonly Pick<RemoteRecord, 'remoteId' | 'remoteUpdatedAt'>[]): Promise<ReadonlySet<string>>
}

export interface ConnectorStats {
  requests: number
  /** Requests the rate budget still allows in the current minute; null when unlimited. */
  budgetLeft: number | null
  /** The rate budget's requests a minute; null when unlimited. */
  budgetPerMinute: number | null
  /** Largest measured |server Date − local clock| in ms. */
  skewMs: number
}

/** Reads one stream from a stored cursor (null: from the beginning). */
export interface RecordReader {
  read(stream: string, from: Cursor | null, ctx: ReadContext): AsyncIterable<Page>
  /** True when every read of the stream is a complete scan (e.g. Elean: no updated-since filter). */
  readsFully(stream: string): boolean
  /** True when the API applies the stream's `filter` itself (Elementum RSQL); else the engine filters after reading. */
  filtersServerSide(stream: string): boolean
}

/** A vendor's write payload, built by its field catalog (`toPayload`). */
export type WritePayload = Record<string, unknown>

/** Creates and updates records; each answer is the record as the vendor now stores it. */
export interface RecordWriter {
  create(stream: string, payload: WritePayload, signal: AbortSignal): Promise<RemoteRecord>
  update(stream: string, remoteId: string, payload: WritePayload, signal: AbortSignal): Promise<RemoteRecord>
  /** The record whose description carries this create marker, after a crash between the create and its bookkeeping. */
  findByMarker(stream: string, marker: string, signal: AbortSignal): Promise<RemoteRecord | null>
  /** Deletes the record; a record already gone throws NotFoundError (`not_found`). Vendors without it cannot propagate deletes. */
  delete?(stream: string, remoteId: string, signal: AbortSignal): Promise<void>
  /** The record as the vendor stores it now; null when it is gone. The executor reads it before an update, to leave alone fields a person changed meanwhile. */
  get?(stream: string, remoteId: string, signal: AbortSignal): Promise<RemoteRecord | null>
}

export interface CommentWriter {
  add(stream: string, parentRemoteId: string, body: string, signal: AbortSignal): Promise<RemoteComment>
  /** The record's comments as the vendor lists them now (null: the record is gone), to find a copy a crash left unrecorded. */
  list(stream: string, parentRemoteId: string, signal: AbortSignal): Promise<RemoteComment[] | null>
  /** The longest comment the vendor takes, in characters, when it documents one (Elean: 10 000). */
  readonly maxChars?: number
}

/**
 * Reads the children (comments, attachments, related items) of chosen records outside a read:
 * the engine's budgeted round-robin over records that did not change, since a new comment need
 * not move its record's `Updated on`. The page has no records, only child sets (and `staleChildren`).
 */
export interface ChildReader {
  /** Requests one record's children cost (the round-robin's share of a rate budget is counted in them). */
  readonly requestsPerRecord: number
  read(stream: string, remoteIds: readonly string[], signal: AbortSignal): Promise<Page>
}

/** A file in transit: the body is streamed, never held whole. */
export interface AttachmentContent {
  filename: string
  mediaType: string | null
  size: number | null
  body: AsyncIterable<Uint8Array>
  /** Text kept beside the file where the vendor has it (Elementum `description`): a copy's marker. */
  description?: string
}

export interface AttachmentReader {
  open(stream: string, parentRemoteId: string, attachmentId: string, signal: AbortSignal): Promise<AttachmentContent>
  /** A lasting address of the attachment, for a link in its place; null where the vendor has none (Elean: presigned URLs expire). */
  linkOf?(stream: string, parentRemoteId: string, attachmentId: string, signal: AbortSignal): Promise<string | null>
}

/**
 * What an attachment copy looks for on its target before writing, so that a copy cut short
 * by a crash is found instead of made twice: `file` an uploaded file (by the marker where the
 * vendor keeps one, else by name and size), `link` an url-link, `comment` a comment carrying
 * the link (by the marker in its text).
 */
export interface CopyQuery {
  as: 'file' | 'link' | 'comment'
  filename: string
  size: number | null
  /** The copy's marker line (see children.attachments.ts). */
  marker: string
  /** For `link`: the url linked to. */
  url?: string
}

/** A copy found on the target: the attachment (file or url-link), or the comment. */
export interface FoundCopy {
  as: 'attachment' | 'comment'
  id: string
}

export interface AttachmentUploader {
  /** The largest file the vendor accepts, in bytes. */
  readonly maxBytes: number
  /** Uploads and waits until the vendor has finished processing it (Elementum: state VALID). */
  upload(stream: string, parentRemoteId: string, file: AttachmentContent, signal: AbortSignal): Promise<RemoteAttachment>
  /** A link in place of a file too large to upload, where the vendor has them (Elementum url-links). */
  addLink?(stream: string, parentRemoteId: string, link: { url: string; description: string }, signal: AbortSignal): Promise<RemoteAttachment>
  /** The copy an earlier attempt left on the record (once processed), or null. */
  findCopy?(stream: string, parentRemoteId: string, query: CopyQuery, signal: AbortSignal): Promise<FoundCopy | null>
}

/** Key → value tables kept in a vendor (elastic.io lookup tables), read as mappings' value maps. */
export interface LookupReader {
  /**
   * The table named `table` (its id, else its title) as key → value; throws a SyncError with
   * code `lookup_not_found` when there is none, and `lookup_ambiguous` when titles repeat.
   */
  read(table: string, signal: AbortSignal): Promise<Readonly<Record<string, string>>>
}

export interface RelationWriter {
  /** The record's related items as the vendor lists them now; null when the record is gone. */
  list(stream: string, parentRemoteId: string, signal: AbortSignal): Promise<RemoteRelation[] | null>
  add(stream: string, parentRemoteId: string, related: { remoteId: string; stream: string }, signal: AbortSignal): Promise<RemoteRelation>
  remove(stream: string, parentRemoteId: string, relationId: string, signal: AbortSignal): Promise<void>
}

/** Watchers by email (Elementum). */
export interface WatcherWriter {
  /** The record's watchers now; null when the record is gone. */
  list(stream: string, parentRemoteId: string, signal: AbortSignal): Promise<RemoteWatcher[] | null>
  /** Adds a watcher; `unknown_user` when the vendor has no user with that email (nothing was written). */
  add(stream: string, parentRemoteId: string, email: string, signal: AbortSignal): Promise<'added' | 'unknown_user'>
}

/** The role ports a vendor may implement beyond reading; config validation asks which ones a kind has. */
/**
 * The role ports a vendor may implement beyond reading; config validation asks which ones a kind has.
 * `recordDeletes` is the record writer's `delete` (a vendor may write records and not delete them).
 */
export type PortName = 'records' | 'recordDeletes' | 'comments' | 'attachmentReader' | 'attachmentUploader' | 'relations' | 'watchers' | 'fields' | 'lookups'

/** Whether a connector implements a role port. */
export function hasPort(connector: Connector, port: PortName): boolean {
  return port === 'recordDeletes' ? typeof connector.records?.delete === 'function' : connector[port] !== undefined
}

/**
 * A vendor API as the engine sees it: a reader of pages per stream, its health check,
 * and the role ports it implements. It never touches the database and never keeps its own cursor.
 */
export interface Connector extends RecordReader {
  readonly kind: string
  /** Authenticates and calls the health check; throws a SyncError naming the reason. */
  check(signal: AbortSignal): Promise<void>
  stats(): ConnectorStats
  close?(): Promise<void>
  readonly records?: RecordWriter
  readonly comments?: CommentWriter
  readonly childReader?: ChildReader
  readonly attachmentReader?: AttachmentReader
  readonly attachmentUploader?: AttachmentUploader
  readonly relations?: RelationWriter
  readonly watchers?: WatcherWriter
  readonly fields?: FieldCatalog
  readonly lookups?: LookupReader
}
