import { getMaxListeners, setMaxListeners } from 'node:events'
import { InterruptedError, toSyncError } from './errors.js'
import type { Connector, ConnectorStats, MirrorStore, RunStatus } from './ports.js'
import { createPageFilter } from './filter.js'
import { batches, mergePages, pagesPerSave, type PreparedPage } from './batch.js'
import { readAhead } from './read-ahead.js'
import { prepareRecords } from './record.js'
import type { ChangeSource, Page, ReadMode, StreamRef } from './types.js'

/**
 * One run of one stream: read pages from the connector, save each (records, history,
 * cursor) in one transaction, and after a complete, error-free scan mark what the scan
 * did not see as deleted. A failure is recorded on the run and returned, never thrown,
 * so one failing stream never blocks the others; its cursor stays where the last saved
 * page left it.
 */
export interface PageProgress {
  stream: StreamRef
  runId: number
  /** The last page saved; a full scan saves its pages in batches (see `SCAN_BATCH_PAGES`). */
  page: number
  /** The first page of the batch saved (equal to `page` for a page saved alone). */
  firstPage: number
  records: number
  changed: number
  requests: number
  budgetLeft: number | null
}

export interface StreamRunOptions {
  stream: StreamRef
  connector: Connector
  mode: ReadMode
  signal: AbortSignal
  lookbackMs: number
  maxDeleteFraction: number
  /** RSQL applied after reading (streams whose API cannot filter server-side). */
  filter?: string | undefined
  forceDelete?: boolean
  /** Complete scans in a row that must miss a record before it is deleted (default 1). */
  missedScansToDelete?: number
  source?: ChangeSource
  onPage?: (p: PageProgress) => void
  now?: () => Date
  /** Scrubs secrets from error text before it is stored or returned. */
  redact?: (text: string) => string
  /**
   * Records of the stream that did not change whose children are read after the pages, read
   * longest ago first (the child round-robin): a new comment need not move its record's
   * `Updated on`. 0 (the default) reads only the children the connector reads with the pages.
   */
  childBudget?: number
  /** An admin's resync: the queued run (already claimed) to start, instead of a new one. */
  runId?: number
  /** An admin's resync from a time (see `ReadContext.since`). */
  since?: Date
}

export interface StreamRunResult {
  /** Null when the run could not even be recorded. */
  runId: number | null
  stream: StreamRef
  mode: ReadMode
  status: RunStatus
  pages: number
  seen: number
  changed: number
  deleted: number
  requests: number
  nulBytesStripped: number
  /** Records whose children could not be read this run (their stored children were kept). */
  childrenStale: number
  /** Items the run could not mirror and quarantined instead (see the `quarantined_records` view). */
  quarantined: number
  durationMs: number
  error?: { code: string; message: string }
}

/** Each page narrowed by the stream's filter, its records made into mirror rows (pure work, no I/O). */
async function* prepared(source: AsyncIterable<Page>, narrow: (p: Page) => Page): AsyncGenerator<PreparedPage, void, undefined> {
  for await (const read of source) {
    const page = narrow(read)
    yield { page, records: prepareRecords(page.records) }
  }
}

/** A run's result before its first page: nothing read, nothing counted. */
function emptyResult(runId: number | null, stream: StreamRef, mode: ReadMode): StreamRunResult {
  return {
    runId,
    stream,
    mode,
    status: 'succeeded',
    pages: 0,
    seen: 0,
    changed: 0,
    deleted: 0,
    requests: 0,
    nulBytesStripped: 0,
    childrenStale: 0,
    quarantined: 0,
    durationMs: 0,
  }
}

/**
 * Records whose children the round-robin reads after a poll: `childBudget`, within what the
 * connection's rate budget can spare. It is background work, so it keeps half a minute's
 * requests free for polls and writes and spends only what is left beyond that now: it never
 * queues requests behind the budget. At a 5 s poll, Elean's default of 20 comment reads a poll
 * asked for 240 requests a minute of a budget of 60, and every poll and push waited behind them
 * (changes took up to 50 s to arrive, issue 13).
 */
export function childShare(childBudget: number, requestsPerRecord: number, stats: Pick<ConnectorStats, 'budgetLeft' | 'budgetPerMinute'>): number {
  if (childBudget <= 0 || stats.budgetLeft === null || stats.budgetPerMinute === null) return Math.max(0, childBudget)
  const spare = stats.budgetLeft - Math.ceil(stats.budgetPerMinute / 2)
  return Math.max(0, Math.min(childBudget, Math.floor(spare / Math.max(1, requestsPerRecord))))
}

/** A run that failed before it could be recorded (the database was unreachable at its start). */
export function unrecordedFailure(stream: StreamRef, mode: ReadMode, err: unknown, redact: (s: string) => string = (s) => s): StreamRunResult {
  const e = toSyncError(err)
  return { ...emptyResult(null, stream, mode), status: 'failed', error: { code: e.code, message: redact(e.message) } }
}

export async function runStream(mirror: MirrorStore, opts: StreamRunOptions): Promise<StreamRunResult> {
  const now = opts.now ?? (() => new Date())
  const redact = opts.redact ?? ((s: string) => s)
  const { stream, connector } = opts
  // every request of the run listens to this signal; concurrent child fetches exceed Node's default of 10
  setMaxListeners(Math.max(getMaxListeners(opts.signal), 200), opts.signal)
  const scan = opts.mode === 'full' || connector.readsFully(stream.stream)
  const mode: ReadMode = scan ? 'full' : 'incremental'
  const startedAt = now()
  const requestsBefore = connector.stats().requests
  const runId = await mirror.startRun(stream, mode, opts.runId)
  const result = emptyResult(runId, stream, mode)
  try {
    const narrow = opts.filter ? createPageFilter(opts.filter) : (p: Page) => p
    const from = await mirror.getCursor(stream)
    const behind = mirror.childrenBehind
    // a full scan saves its pages in batches (unless its source is held to a low rate), an
    // incremental poll page by page (batch.ts). The
    // next batch is read, narrowed and made into mirror rows while this one is written (issue 13:
    // the run waited for each in turn): as many pages ahead as a batch holds, so a run that stops
    // early has read at most one batch more than it saved, never saved any of it. Held until the
    // write is sent: read as soon as this batch was taken, its answers arrived while this batch's
    // first statements awaited theirs, and parsing them delayed them by as much as the write took
    const batchPages = pagesPerSave(scan, connector.stats().budgetPerMinute)
    const pages = readAhead(
      prepared(
        connector.read(stream.stream, from, {
          mode,
          signal: opts.signal,
          startedAt,
          lookbackMs: opts.lookbackMs,
          ...(opts.since ? { since: opts.since } : {}),
          ...(behind ? { childrenBehind: (records) => behind.call(mirror, stream, records) } : {}),
        }),
        narrow,
      ),
      batchPages,
      { held: true },
    )
    for await (const batch of batches(pages, batchPages)) {
      opts.signal.throwIfAborted()
      const { page, records } = mergePages(batch)
      if (scan && page.restartScan) await mirror.resetScan(runId)
      const applied = await mirror.applyPage(stream, page, {
        source: opts.source ?? 'poll',
        runId,
        ...(scan ? { scanRunId: runId } : {}),
        ...(opts.redact ? { redact: opts.redact } : {}),
        prepared: records,
        writeSent: () => pages.readOn(),
      })
      const firstPage = result.pages + 1
      result.pages += batch.length
      result.seen += applied.seen
      result.changed += applied.changes
      result.nulBytesStripped += applied.nulBytesStripped
      result.childrenStale += applied.childrenStale ?? page.staleChildren?.length ?? 0
      result.quarantined += applied.quarantined ?? 0
      const stats = connector.stats()
      opts.onPage?.({
        stream,
        runId,
        page: result.pages,
        firstPage,
        records: applied.seen,
        changed: applied.changes,
        requests: stats.requests - requestsBefore,
        budgetLeft: stats.budgetLeft,
      })
    }
    // the last read may have ended (read ahead) before the signal came: a stopped run is not complete
    opts.signal.throwIfAborted()
    if (scan) {
      const done = await mirror.completeScan(stream, runId, {
        maxDeleteFraction: opts.maxDeleteFraction,
        force: opts.forceDelete ?? false,
        missedScansToDelete: opts.missedScansToDelete ?? 1,
        source: opts.source ?? 'poll',
      })
      result.deleted = done.deleted
    }
    // after the scan's deletions: only live records take a turn
    const budget = connector.childReader ? childShare(opts.childBudget ?? 0, connector.childReader.requestsPerRecord, connector.stats()) : 0
    if (budget > 0 && connector.childReader && mirror.childrenDue) {
      const due = await mirror.childrenDue(stream, runId, budget)
      if (due.length > 0) {
        const children = await connector.childReader.read(stream.stream, due, opts.signal)
        const applied = await mirror.applyPage(stream, { ...children, records: [] }, { source: opts.source ?? 'poll', runId })
        result.nulBytesStripped += applied.nulBytesStripped
        result.childrenStale += applied.childrenStale ?? children.staleChildren?.length ?? 0
      }
    }
  } catch (err) {
    // whatever surfaced (the aborted sleep or request, a wrapped error), a run whose signal
    // carries an interrupt was stopped on purpose; a lost lease or any other abort is a failure
    const reason: unknown = opts.signal.aborted ? opts.signal.reason : undefined
    const e = toSyncError(reason instanceof InterruptedError ? reason : err)
    result.status = reason instanceof InterruptedError ? 'interrupted' : 'failed'
    result.error = { code: e.code, message: redact(e.message) }
  }
  result.requests = connector.stats().requests - requestsBefore
  result.durationMs = now().getTime() - startedAt.getTime()
  await mirror.finishRun(runId, {
    status: result.status,
    pages: result.pages,
    recordsSeen: result.seen,
    recordsChanged: result.changed,
    recordsDeleted: result.deleted,
    requests: result.requests,
    quarantined: result.quarantined,
    childrenStale: result.childrenStale,
    error: result.error ? `${result.error.code}: ${result.error.message}` : null,
  })
  return result
}
