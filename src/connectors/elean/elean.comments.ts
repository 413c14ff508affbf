/**
 * Which tasks get their comments read with the pages of one scan: the tasks whose `updatedAt`
 * changed since the previous scan, at most `cap` of them (Elean's budget is 60 requests a
 * minute and comments cost one request per task). The comments of tasks that did not change
 * are the engine's budgeted round-robin (`childBudget`, through the connector's `childReader`),
 * which remembers in the mirror which tasks were read longest ago.
 *
 * The listing is streamed and a task's comments travel on its own page, so the choice is
 * made page by page: a changed task is read on its page, in list order, while the scan's
 * budget lasts; one left over is *owed*: it counts as changed on the following scans of this
 * process until its comments are read (a change is never forgotten). A fresh process knows
 * the changed tasks from the stored cursor (`updatedAt` since the last scan began).
 */

/** What one connector instance remembers of a stream between scans (never persisted). */
export interface StreamMemory {
  /** Scans started by this process. */
  scans: number
  /** Task id → version (`updatedAt`) seen by the previous scan, in list order; null before the first scan of this process. */
  lastSeen: Map<string, string> | null
  /** Task id → number of the scan that last read its comments. */
  commentsRead: Map<string, number>
  /** Tasks seen changed whose comments could not be read yet: for lack of budget, or because the read failed. */
  owed: Set<string>
}

export function createStreamMemory(): StreamMemory {
  return { scans: 0, lastSeen: null, commentsRead: new Map(), owed: new Set() }
}

export interface TaskVersion {
  id: string
  version: string
}

/** One scan's comment reads, decided page by page. */
export interface CommentPlan {
  /**
   * The ids among one page's changed tasks whose comments to read now, in list order; they
   * are counted against the scan's cap. A task already read in this scan (before a restart
   * from page 1) is not read again.
   */
  pick(tasks: readonly TaskVersion[]): string[]
  /** Comment reads picked so far in this scan. */
  readonly picked: number
  /** A picked task whose comments could not be read: it counts as changed on the next scans until they are. */
  owe(id: string): void
  /** After the scan: remember its listing (id → version, in list order), forget tasks that are gone. */
  finish(listing: Map<string, string>): void
}

/**
 * Starts the comment plan of scan number `scan`. `changedSinceMs`: on the first scan of
 * a process there is no memory; tasks updated after this instant (the stored cursor's
 * `lastScanAt` minus the lookback) count as changed, the others wait for the round-robin.
 * Null: every task counts as changed (and none is owed when the budget runs out: that
 * is ignorance, not a change).
 */
export function planComments(memory: StreamMemory, cap: number, scan: number, changedSinceMs: number | null): CommentPlan {
  const { lastSeen, owed, commentsRead } = memory
  const evidence = lastSeen !== null || changedSinceMs !== null
  const changed = (t: TaskVersion): boolean => {
    if (owed.has(t.id)) return true
    if (lastSeen) return lastSeen.get(t.id) !== t.version
    if (changedSinceMs === null) return true
    const at = Date.parse(t.version)
    return Number.isNaN(at) || at >= changedSinceMs
  }
  const stillOwed = new Set<string>()
  let picked = 0

  return {
    get picked() {
      return picked
    },
    pick(tasks) {
      // comment polling off: nothing is read, so nothing is owed either
      if (cap <= 0) return []
      const out: string[] = []
      for (const t of tasks) {
        if (commentsRead.get(t.id) === scan || !changed(t)) continue
        if (picked < cap) {
          out.push(t.id)
          picked += 1
          stillOwed.delete(t.id)
        } else if (evidence) stillOwed.add(t.id)
      }
      return out
    },
    owe(id) {
      stillOwed.add(id)
    },
    finish(listing) {
      memory.lastSeen = listing
      for (const id of commentsRead.keys()) if (!listing.has(id)) commentsRead.delete(id)
      memory.owed = new Set([...stillOwed].filter((id) => listing.has(id) && commentsRead.get(id) !== scan))
    },
  }
}
