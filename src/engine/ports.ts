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
  /** An admin's confirmation: delete even above the fraction. */
  force?: boolean
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
  /** After a complete, error-free scan: soft-deletes live records the scan did not see. */
  completeScan(stream: StreamRef, runId: number, opts: CompleteScanOptions): Promise<{ deleted: number; live: number }>
  getCursor(stream: StreamRef): Promise<Cursor | null>
  startRun(stream: StreamRef, mode: ReadMode): Promise<number>
  finishRun(runId: number, summary: RunSummary): Promise<void>
}
