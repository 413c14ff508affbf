/**
 * Which tasks get their comments read with the pages of one scan: those whose comments the
 * mirror lacks at the version listed (`ReadContext.childrenBehind`: a new or changed task, one
 * whose last read was at an older version or failed), at most `cap` of them (Elean's budget is
 * 60 requests a minute and comments cost one request per task). The comments of tasks that did
 * not change are the engine's budgeted round-robin (`childBudget`, through the connector's
 * `childReader`), which remembers in the mirror which tasks were read longest ago.
 *
 * The listing is streamed and a task's comments travel on its own page, so the choice is made
 * page by page, in list order, while the scan's budget lasts. A changed task left over is not
 * forgotten: its page saves its new version, and the mirror then holds comments read at an older
 * one, so the next scan (of this process or the next) finds it behind again. Nothing is kept in
 * memory between scans: a connector's memory does not grow with the project (issue 13).
 */

import type { RemoteRecord } from '../../engine/types.js'

/** A listed task: its id and `updatedAt`. */
export type TaskVersion = Pick<RemoteRecord, 'remoteId' | 'remoteUpdatedAt'>

/** One scan's comment reads, decided page by page. */
export interface CommentPlan {
  /**
   * The ids among one page's listed tasks whose comments to read now, in list order; they are
   * counted against the scan's cap. A task already picked in this scan (before a restart from
   * page 1) is not picked again.
   */
  pick(tasks: readonly TaskVersion[]): Promise<string[]>
  /** Comment reads picked so far in this scan. */
  readonly picked: number
}

/**
 * Starts the comment plan of one scan. `behind`: of tasks just listed, those whose comments the
 * mirror lacks at that version; absent (no mirror), every task listed counts as changed.
 */
export function planComments(cap: number, behind?: (tasks: readonly TaskVersion[]) => Promise<ReadonlySet<string>>): CommentPlan {
  const picked = new Set<string>()
  return {
    get picked() {
      return picked.size
    },
    async pick(tasks) {
      // comment polling off, or the budget spent: the mirror need not be asked
      if (picked.size >= cap) return []
      const fresh = tasks.filter((t) => !picked.has(t.remoteId))
      if (fresh.length === 0) return []
      const due = behind ? await behind(fresh) : null
      const out: string[] = []
      for (const t of fresh) {
        if (picked.size >= cap) break
        if (due && !due.has(t.remoteId)) continue
        picked.add(t.remoteId)
        out.push(t.remoteId)
      }
      return out
    },
  }
}
