import type { Connector, MirrorStore } from './ports.js'
import { runStream, type PageProgress, type StreamRunResult } from './poll.js'
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
}

export interface SyncPassOptions {
  mode: ReadMode
  signal: AbortSignal
  source?: ChangeSource
  forceDelete?: boolean
  onPage?: (p: PageProgress) => void
  onStreamDone?: (r: StreamRunResult) => void
  redact?: (text: string) => string
  /** Runs a stream exclusively (across replicas); 'busy' means another holder is running it. */
  exclusive?: <T>(stream: StreamRef, fn: () => Promise<T>) => Promise<T | 'busy'>
  onBusy?: (stream: StreamRef) => void
}

export async function syncPass(mirror: MirrorStore, targets: readonly SyncTarget[], opts: SyncPassOptions): Promise<StreamRunResult[]> {
  const byConnection = new Map<string, SyncTarget[]>()
  for (const t of targets) byConnection.set(t.stream.connection, [...(byConnection.get(t.stream.connection) ?? []), t])
  const lanes = [...byConnection.values()].map(async (lane) => {
    const results: StreamRunResult[] = []
    for (const t of lane) {
      if (opts.signal.aborted) break
      const run = () =>
        runStream(mirror, {
          stream: t.stream,
          connector: t.connector,
          mode: opts.mode,
          signal: opts.signal,
          // a server clock ahead of ours would make a window miss changes: widen by the skew
          lookbackMs: t.lookbackSeconds * 1000 + t.connector.stats().skewMs,
          maxDeleteFraction: t.maxDeleteFraction,
          filter: t.filter,
          ...(t.missedScansToDelete !== undefined ? { missedScansToDelete: t.missedScansToDelete } : {}),
          ...(opts.forceDelete !== undefined ? { forceDelete: opts.forceDelete } : {}),
          ...(opts.source ? { source: opts.source } : {}),
          ...(opts.onPage ? { onPage: opts.onPage } : {}),
          ...(opts.redact ? { redact: opts.redact } : {}),
        })
      const result = opts.exclusive ? await opts.exclusive(t.stream, run) : await run()
      if (result === 'busy') {
        opts.onBusy?.(t.stream)
        continue
      }
      opts.onStreamDone?.(result)
      results.push(result)
    }
    return results
  })
  return (await Promise.all(lanes)).flat()
}
