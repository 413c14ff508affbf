import type { Connector, MirrorStore } from './ports.js'
import { runStream, unrecordedFailure, type PageProgress, type StreamRunResult } from './poll.js'
import type { ChangeSource, ReadMode, StreamRef } from './types.js'

/**
 * One pass over a set of streams: the streams of one connection run one after another
 * (they share its rate budget), different connections run side by side. A failing
 * stream is recorded and the others go on.
 */
export interface SyncTarget {
  stream: StreamRef
  connector: Connector
  lookbackSeconds: number
  maxDeleteFraction: number
  /** Applied after reading; undefined when the connector pushed it down to the API. */
  filter?: string | undefined
  missedScansToDelete?: number
  /** Unchanged records whose children are read per poll (the child round-robin, see poll.ts). */
  childBudget?: number
}

export interface SyncPassOptions {
  mode: ReadMode
  signal: AbortSignal
  source?: ChangeSource
  forceDelete?: boolean
  onPage?: (p: PageProgress) => void
  onStreamDone?: (r: StreamRunResult) => void
  redact?: (text: string) => string
  /**
   * Runs a stream exclusively (across replicas). `fn` gets a signal that aborts when
   * exclusivity is lost. 'busy': another holder is running it; 'tick-done': this
   * scheduled tick already ran on another replica.
   */
  exclusive?: <T>(stream: StreamRef, fn: (lost: AbortSignal) => Promise<T>) => Promise<T | StreamSkip>
  onBusy?: (stream: StreamRef, why: StreamSkip) => void
  /** An admin's resync from a time (see `ReadContext.since`). */
  since?: Date
  /**
   * An admin's queued resync: called once the stream is held exclusively, it claims the queued
   * run and gives its id, which the run then uses; null when the run is no longer queued
   * (another replica ran it meanwhile), and the stream is skipped as 'dequeued'.
   */
  queued?: (stream: StreamRef) => Promise<number | null>
}

export type StreamSkip = 'busy' | 'tick-done' | 'dequeued'

export async function syncPass(mirror: MirrorStore, targets: readonly SyncTarget[], opts: SyncPassOptions): Promise<StreamRunResult[]> {
  const byConnection = new Map<string, SyncTarget[]>()
  for (const t of targets) byConnection.set(t.stream.connection, [...(byConnection.get(t.stream.connection) ?? []), t])
  const lanes = [...byConnection.values()].map(async (lane) => {
    const results: StreamRunResult[] = []
    for (const t of lane) {
      if (opts.signal.aborted) break
      const run = async (lost?: AbortSignal): Promise<StreamRunResult | 'dequeued'> => {
        const queuedRun = opts.queued ? await opts.queued(t.stream) : undefined
        if (queuedRun === null) return 'dequeued'
        return runStream(mirror, {
          stream: t.stream,
          connector: t.connector,
          mode: opts.mode,
          signal: lost ? AbortSignal.any([opts.signal, lost]) : opts.signal,
          // a server clock ahead of ours would make a window miss changes: widen by the skew
          lookbackMs: t.lookbackSeconds * 1000 + t.connector.stats().skewMs,
          maxDeleteFraction: t.maxDeleteFraction,
          filter: t.filter,
          ...(t.missedScansToDelete !== undefined ? { missedScansToDelete: t.missedScansToDelete } : {}),
          ...(t.childBudget !== undefined ? { childBudget: t.childBudget } : {}),
          ...(opts.forceDelete !== undefined ? { forceDelete: opts.forceDelete } : {}),
          ...(opts.source ? { source: opts.source } : {}),
          ...(opts.onPage ? { onPage: opts.onPage } : {}),
          ...(opts.redact ? { redact: opts.redact } : {}),
          ...(opts.since ? { since: opts.since } : {}),
          ...(queuedRun !== undefined ? { runId: queuedRun } : {}),
        })
      }
      // runStream records its own failures; what escapes it (the database gone before the run
      // could even be recorded, the lease table unreachable) fails this stream, never the pass
      const result = await (opts.exclusive ? opts.exclusive(t.stream, run) : run()).catch((err: unknown) =>
        unrecordedFailure(t.stream, opts.mode, err, opts.redact),
      )
      if (result === 'busy' || result === 'tick-done' || result === 'dequeued') {
        opts.onBusy?.(t.stream, result)
        continue
      }
      opts.onStreamDone?.(result)
      results.push(result)
    }
    return results
  })
  return (await Promise.all(lanes)).flat()
}
