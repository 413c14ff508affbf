import type { PreparedRecords } from './record.js'
import type { ChildSet, Page } from './types.js'

/**
 * Pages a full scan saves in one transaction: one read of the stored rows, one write statement
 * and one commit for five pages instead of five of each (issue 13: a page's fixed costs, the
 * round trips and the per-statement work of Postgres, were a fifth of its time). An incremental
 * poll saves each page as it comes: it reads few pages, and a change it brings must not wait for
 * four more pages.
 */
export const SCAN_BATCH_PAGES = 5

/**
 * A source limited to fewer requests a minute than this delivers pages slower than the database
 * saves them one by one: batching would only hold its pages back (on Elean, at 60 a minute, four
 * seconds each), quiet its progress lines and, when the run stops, throw away more of its budget.
 */
export const BATCH_MIN_REQUESTS_PER_MINUTE = 300

/** How many pages a run saves at a time: `SCAN_BATCH_PAGES` for a scan of a source not held to a low rate, else 1. */
export function pagesPerSave(scan: boolean, budgetPerMinute: number | null): number {
  return scan && (budgetPerMinute === null || budgetPerMinute >= BATCH_MIN_REQUESTS_PER_MINUTE) ? SCAN_BATCH_PAGES : 1
}

/** A page read and made into mirror rows (see `runStream`). */
export interface PreparedPage {
  page: Page
  records: PreparedRecords
}

/**
 * Groups `source` into batches of at most `size` items. A page that restarts a scan starts a
 * batch of its own making: the scan's membership is cleared before it is saved, never after a
 * page read before it. An error of the source comes after the batch of the pages read before it,
 * so what was read is saved before the run fails, as it would be page by page.
 */
export async function* batches(source: AsyncIterable<PreparedPage>, size: number): AsyncGenerator<PreparedPage[], void, undefined> {
  let batch: PreparedPage[] = []
  try {
    for await (const item of source) {
      if (item.page.restartScan && batch.length > 0) {
        yield batch
        batch = []
      }
      batch.push(item)
      if (batch.length >= size) {
        yield batch
        batch = []
      }
    }
  } catch (err) {
    if (batch.length > 0) yield batch
    throw err
  }
  if (batch.length > 0) yield batch
}

/** Child sets merged: each parent keeps the items of the last page that listed it. */
function mergeChildSets<T extends { parentRemoteId: string }>(sets: readonly (ChildSet<T> | undefined)[]): ChildSet<T> | undefined {
  const present = sets.filter((s): s is ChildSet<T> => s !== undefined)
  if (present.length === 0) return undefined
  if (present.length === 1) return present[0]
  const byParent = new Map<string, T[]>()
  for (const set of present) {
    const items = new Map<string, T[]>(set.parents.map((p) => [p, []]))
    for (const item of set.items) {
      const list = items.get(item.parentRemoteId)
      if (list) list.push(item)
      else items.set(item.parentRemoteId, [item])
    }
    for (const [parent, list] of items) {
      byParent.delete(parent) // keeps the parents in the order of their last listing
      byParent.set(parent, list)
    }
  }
  return { parents: [...byParent.keys()], items: [...byParent.values()].flat() }
}

/**
 * The pages of a batch as one page, saved as the pages in turn would have been: a record read
 * twice is saved as last read (as `planPage` does within a page), a parent's children as the last
 * page that read them brought them, a record whose children one page could not read stays stale
 * unless a later page read them, an item quarantined by one page is released when a later page
 * brings it as a good record, and the cursor is the last page's.
 *
 * Where a record appears on two pages of one batch (offset paging that drifted) the save differs
 * from page-by-page saves in what lies between the two reads, never in the final state: one
 * history row for both reads (the earlier value was never saved), the children read at the later
 * listing's time, a bad child of one read keeping the other read's children back for this save,
 * and run counters that count the record once. The next scan reads it again either way.
 */
export function mergePages(batch: readonly PreparedPage[]): PreparedPage {
  const [first, ...rest] = batch
  if (first === undefined) throw new Error('mergePages: an empty batch')
  if (rest.length === 0) return first
  // membership is cleared before a batch is saved: a restart after its first page would be too late
  if (rest.some((b) => b.page.restartScan)) throw new Error('mergePages: a page that restarts the scan must start its batch')
  const pages = batch.map((b) => b.page)
  const records = pages.flatMap((p) => p.records)
  const parentsFrom = (p: Page): string[] => [p.comments, p.attachments, p.relations, p.watchers].flatMap((s) => (s ? [...s.parents] : []))
  const stale = new Set<string>()
  const quarantined: NonNullable<Page['quarantined']>[number][] = []
  // records the mirror refused (`toMirrorRow` threw): the page writer quarantines them like the
  // connector's items, so a later page's good read releases them too
  const failed: PreparedPage['records']['failed'] = []
  for (const { page, records: prepared } of batch) {
    for (const parent of parentsFrom(page)) stale.delete(parent)
    for (const id of page.staleChildren ?? []) stale.add(id)
    // released by this page, as its own save would have released them: the ids it stores, not
    // every id it lists (one it cannot store is quarantined, not good)
    const good = new Set(prepared.rows.map((r) => r.remoteId))
    for (let i = quarantined.length - 1; i >= 0; i -= 1) {
      const id = quarantined[i]?.remoteId
      if (id !== null && id !== undefined && good.has(id)) quarantined.splice(i, 1)
    }
    for (let i = failed.length - 1; i >= 0; i -= 1) if (good.has(failed[i]?.record.remoteId ?? '')) failed.splice(i, 1)
    quarantined.push(...(page.quarantined ?? []))
    failed.push(...prepared.failed)
  }
  const cursor = pages.findLast((p) => p.cursor !== undefined)?.cursor
  const merged: Page = { records }
  if (cursor !== undefined) merged.cursor = cursor
  const comments = mergeChildSets(pages.map((p) => p.comments))
  if (comments) merged.comments = comments
  const attachments = mergeChildSets(pages.map((p) => p.attachments))
  if (attachments) merged.attachments = attachments
  const relations = mergeChildSets(pages.map((p) => p.relations))
  if (relations) merged.relations = relations
  const watchers = mergeChildSets(pages.map((p) => p.watchers))
  if (watchers) merged.watchers = watchers
  if (stale.size > 0) merged.staleChildren = [...stale]
  if (quarantined.length > 0) merged.quarantined = quarantined
  if (first.page.restartScan) merged.restartScan = true
  const prepared = batch.map((b) => b.records)
  return {
    page: merged,
    records: {
      of: records,
      rows: prepared.flatMap((p) => p.rows),
      failed,
      nulBytesStripped: prepared.reduce((n, p) => n + p.nulBytesStripped, 0),
    },
  }
}
