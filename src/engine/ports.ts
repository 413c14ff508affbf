import type { ChangeSource, Cursor, Page, ReadMode, StreamRef } from './types.js'

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
}

export interface ApplyOptions {
  source?: ChangeSource
  /** Set during a full scan: the page's ids count as seen by this run. */
  scanRunId?: number
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

export interface RunSummary {
  status: 'succeeded' | 'failed'
  pages: number
  recordsSeen: number
  recordsChanged: number
  recordsDeleted: number
  requests: number
  error?: string | null
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
  startRun(stream: StreamRef, mode: ReadMode): Promise<number>
  finishRun(runId: number, summary: RunSummary): Promise<void>
}

/** What a read needs besides the stream and its stored cursor. */
export interface ReadContext {
  mode: ReadMode
  signal: AbortSignal
  /** The read's start time: incremental windows end here. */
  startedAt: Date
  /** How far before the stored cursor an incremental window starts (lookback + measured clock skew). */
  lookbackMs: number
}

export interface ConnectorStats {
  requests: number
  /** Requests the rate budget still allows in the current minute; null when unlimited. */
  budgetLeft: number | null
  /** Largest measured |server Date − local clock| in ms. */
  skewMs: number
}

/**
 * A vendor API as the engine sees it: an async generator of pages per stream plus
 * its health check. It never touches the database and never keeps its own cursor.
 */
export interface Connector {
  readonly kind: string
  /** Reads one stream from a stored cursor (null: from the beginning). */
  read(stream: string, from: Cursor | null, ctx: ReadContext): AsyncIterable<Page>
  /** True when every read of the stream is a complete scan (e.g. Elean: no updated-since filter). */
  readsFully(stream: string): boolean
  /** Authenticates and calls the health check; throws a SyncError naming the reason. */
  check(signal: AbortSignal): Promise<void>
  stats(): ConnectorStats
  close?(): Promise<void>
}
