/**
 * Which tasks get their comments read in one scan. Elean's budget is 60 requests a
 * minute and comments cost one request per task, so a scan reads at most `cap` of them:
 * first the tasks whose `updatedAt` changed since the previous scan, then, round-robin,
 * the tasks whose comments were read longest ago (never read first), because a new
 * comment need not bump its task's `updatedAt`.
 */

/** What one connector instance remembers of a stream between scans (never persisted). */
export interface StreamMemory {
  /** Scans started by this process. */
  scans: number
  /** Task id → version (`updatedAt`) seen by the previous scan; null before the first scan of this process. */
  lastSeen: Map<string, string> | null
  /** Task id → number of the scan that last read its comments. */
  commentsRead: Map<string, number>
}

export function createStreamMemory(): StreamMemory {
  return { scans: 0, lastSeen: null, commentsRead: new Map() }
}

export interface TaskVersion {
  id: string
  version: string
}

/**
 * The ids whose comments to read this scan, at most `cap`, in priority order.
 * `changedSinceMs`: on the first scan of a process there is no memory; tasks updated
 * after this instant (the stored cursor's `lastScanAt` minus the lookback) count as
 * changed, the others wait for the round-robin. Null: every task counts as changed.
 */
export function pickCommentTargets(tasks: readonly TaskVersion[], memory: StreamMemory, cap: number, changedSinceMs: number | null): string[] {
  if (cap <= 0 || tasks.length === 0) return []
  const changed = (t: TaskVersion): boolean => {
    if (memory.lastSeen) return memory.lastSeen.get(t.id) !== t.version
    if (changedSinceMs === null) return true
    const at = Date.parse(t.version)
    return Number.isNaN(at) || at >= changedSinceMs
  }
  const first: string[] = []
  const rest: TaskVersion[] = []
  for (const t of tasks) (changed(t) ? first.push(t.id) : rest.push(t))
  if (first.length >= cap) return first.slice(0, cap)
  // Array.prototype.sort is stable: equal ages keep list order
  const byAge = rest.map((t) => ({ id: t.id, at: memory.commentsRead.get(t.id) ?? -1 })).sort((a, b) => a.at - b.at)
  return [...first, ...byAge.slice(0, cap - first.length).map((t) => t.id)]
}

/** After a scan: remember what it saw, and forget tasks that are gone. */
export function rememberScan(memory: StreamMemory, tasks: readonly TaskVersion[]): void {
  memory.lastSeen = new Map(tasks.map((t) => [t.id, t.version]))
  for (const id of memory.commentsRead.keys()) if (!memory.lastSeen.has(id)) memory.commentsRead.delete(id)
}
