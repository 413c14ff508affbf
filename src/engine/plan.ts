import { diffSnapshots, type MirrorRow, type Snapshot } from './record.js'
import type { ChangedFields, ChangeOp } from './types.js'

/**
 * What saving one page must write, decided before any write (pure): which records are
 * inserted, updated or restored, at which version, with which field-level changes.
 */

/** A record as the mirror holds it, as far as planning needs it. */
export interface StoredRecord {
  remoteId: string
  contentHash: string
  version: number
  deleted: boolean
  snapshot: Snapshot
}

export interface PlannedWrite {
  row: MirrorRow
  version: number
  op: Exclude<ChangeOp, 'delete'>
  changed: ChangedFields
}

export interface PagePlan {
  /** The page's records, one per remote id. */
  rows: MirrorRow[]
  /** Rows to write, each with its history row. */
  writes: PlannedWrite[]
  /**
   * Rows to write in place, at their version and without a history row: only their timestamp
   * or source document moved (a vendor that bumps `updatedAt` on a write that changes no value).
   */
  touches: PlannedWrite[]
  unchanged: number
}

/** One row per remote id, the last occurrence winning (offset paging repeats rows, the later read is newer). */
export function lastWins(rows: readonly MirrorRow[]): MirrorRow[] {
  const byId = new Map<string, MirrorRow>()
  for (const row of rows) byId.set(row.remoteId, row)
  return [...byId.values()]
}

/**
 * Plans a page against the records it already has: a new id is an insert, a deleted one
 * comes back as a restore, a changed hash is an update (a touch when no field changed); an
 * unchanged live record writes nothing.
 */
export function planPage(page: readonly MirrorRow[], existing: ReadonlyMap<string, StoredRecord>): PagePlan {
  const rows = lastWins(page)
  const writes: PlannedWrite[] = []
  const touches: PlannedWrite[] = []
  let unchanged = 0
  for (const row of rows) {
    const old = existing.get(row.remoteId)
    if (old && !old.deleted && old.contentHash === row.contentHash) {
      unchanged += 1
      continue
    }
    const op = !old ? 'insert' : old.deleted ? 'restore' : 'update'
    const changed = diffSnapshots(old?.snapshot ?? null, row.snapshot)
    // nothing an analyst or a mapping can see changed: keep the row current, add no history
    if (old && op === 'update' && Object.keys(changed).length === 0) touches.push({ row, version: old.version, op, changed })
    else writes.push({ row, version: (old?.version ?? 0) + 1, op, changed })
  }
  return { rows, writes, touches, unchanged }
}

/** How many writes of each kind a plan holds. */
export function countWrites(plan: PagePlan): Record<PlannedWrite['op'], number> {
  const counts = { insert: 0, update: 0, restore: 0 }
  for (const w of plan.writes) counts[w.op] += 1
  return counts
}
