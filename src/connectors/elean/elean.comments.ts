/**
 * Which tasks get their comments read in one scan. Elean's budget is 60 requests a
 * minute and comments cost one request per task, so a scan reads at most `cap` of them:
 * first the tasks whose `updatedAt` changed since the previous scan, then, round-robin,
 * the tasks whose comments were read longest ago (never read first), because a new
 * comment need not bump its task's `updatedAt`.
 *
 * The listing is streamed and a task's comments travel on its own page, so the choice is
 * made page by page, without knowing the pages still to come:
 * - a changed task is read on its page, in list order, while the scan's budget lasts;
 *   one left over for lack of budget is *owed*: it counts as changed on the following
 *   scans until its comments are read (a change is never forgotten);
 * - the round-robin candidates are fixed when the scan starts: the `cap` tasks of the
 *   previous scan's listing read longest ago. Each is read on its page when it comes,
 *   but the round-robin never spends the part of the budget the owed tasks need.
 * A changed task listed after round-robin candidates may thus have to wait one scan
 * (it is then owed); it is never dropped. Without a previous listing (the first scan of
 * a process) no task has been read yet, so every unchanged task is a candidate, in order.
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
   * The ids among one page's tasks whose comments to read now, changed tasks first, in
   * priority order; they are counted against the scan's budget. A task already read in
   * this scan (before a restart from page 1) is not read again.
   */
  pick(tasks: readonly TaskVersion[]): string[]
  /** Comment reads picked so far in this scan. */
  readonly picked: number
  /** A picked task whose comments could not be read: it counts as changed on the next scans until they are. */
  owe(id: string): void
  /** After the scan: remember its listing (id → version, in list order), forget tasks that are gone. */
  finish(listing: Map<string, string>): void
}

/** The `n` ids of `listing` whose comments were read longest ago (never read first), list order among equals. */
function longestUnread(listing: ReadonlyMap<string, string>, memory: StreamMemory, n: number): Set<string> {
  if (n <= 0) return new Set()
  const ages: { id: string; at: number }[] = []
  for (const id of listing.keys()) if (!memory.owed.has(id)) ages.push({ id, at: memory.commentsRead.get(id) ?? -1 })
  // Array.prototype.sort is stable: equal ages keep list order
  ages.sort((a, b) => a.at - b.at)
  return new Set(ages.slice(0, n).map((a) => a.id))
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
  const roundRobinCap = Math.max(0, cap - owed.size)
  // `cap` of them (not fewer) so that a candidate that changed or is gone leaves its turn to
  // the next; null: any unchanged task (the first scan of a process has read none yet)
  const candidates = lastSeen && roundRobinCap > 0 ? longestUnread(lastSeen, memory, cap) : lastSeen ? new Set<string>() : null
  const stillOwed = new Set<string>()
  let picked = 0
  let roundRobin = 0

  return {
    get picked() {
      return picked
    },
    pick(tasks) {
      // comment polling off: nothing is read, so nothing is owed either
      if (cap <= 0) return []
      const out: string[] = []
      const rest: TaskVersion[] = []
      for (const t of tasks) {
        if (commentsRead.get(t.id) === scan) continue
        if (!changed(t)) rest.push(t)
        else if (picked < cap) {
          out.push(t.id)
          picked += 1
          stillOwed.delete(t.id)
        } else if (evidence) stillOwed.add(t.id)
      }
      if (picked >= cap || roundRobin >= roundRobinCap) return out
      const byAge = rest
        .filter((t) => candidates === null || candidates.has(t.id))
        .map((t) => ({ id: t.id, at: commentsRead.get(t.id) ?? -1 }))
        .sort((a, b) => a.at - b.at)
      for (const { id } of byAge) {
        if (picked >= cap || roundRobin >= roundRobinCap) break
        out.push(id)
        picked += 1
        roundRobin += 1
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
