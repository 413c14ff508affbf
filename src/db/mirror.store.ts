import type { ApplyOptions, ApplyResult, MirrorStore } from '../engine/ports.js'
import { countWrites, planPage, type StoredRecord } from '../engine/plan.js'
import { prepareRecords, sanitize, type SanitizeReport } from '../engine/record.js'
import type { Cursor, Page, QuarantinedItem, StreamRef } from '../engine/types.js'
import { applyChildren, childrenBehind, childrenDue, markChildrenStale, screenChildren } from './children.store.js'
import { withDbRetry } from './transient.js'
import { allSettledOrThrow, type Sql, type Tx } from './client.js'
import { groupQuarantine, quarantineOf, saveQuarantine } from './quarantine.store.js'
import { writePage } from './page.write.js'
import { createPgRunStore } from './run.store.js'
import { createPgScanStore } from './scan.store.js'

/**
 * The mirror's page writer: one transaction per page saves the records, their history,
 * the scan membership, the children and the cursor. `createPgMirror` composes it with the
 * scan store and the run store into the engine's `MirrorStore`.
 *
 * One bad item never fails its page: the connector's quarantined items and the records the
 * mirror cannot store (`toMirrorRow` refuses them) are quarantined in the same transaction,
 * and the rest is saved. A quarantined item with an id counts as seen by a full scan, since
 * it exists at the source: its stored record, if any, stays as it was and is not deleted.
 */

/**
 * The stored state of the page's records, locked until the page commits. Exported for the plan test.
 *
 * Shaped so that its plan is one index probe per id whatever the planner knows, because its
 * cost per page must not grow with the stream (issue 13). `remote_id = any($ids)` was planned,
 * on a table without statistics, as a scan of the whole stream filtering remote_id row by row;
 * a plain join to `unnest($ids)` as a hash join over the whole stream. Here each id is its own
 * subquery on the full natural key, kept apart (the `for update` inside it stops the planner
 * from flattening it into a join), so the only index that matches is the unique one on all
 * three columns. `applyPage` also plans it afresh on every page, see there.
 */
export function selectStored(tx: Tx, stream: StreamRef, ids: readonly string[]) {
  return tx<StoredRecord[]>`
    select r.remote_id as "remoteId", r.content_hash as "contentHash", r.version, r.deleted_at is not null as deleted, r.snapshot
    from unnest(${ids as string[]}::text[]) as k(remote_id)
    cross join lateral (
      select * from elsync.records r
      where r.connection = ${stream.connection} and r.stream = ${stream.stream} and r.remote_id = k.remote_id
      for update
    ) r`
}

export interface PgMirrorOptions {
  /** Test hook: called after each step of `applyPage` inside its transaction. */
  afterStep?: (step: 'existing' | 'records' | 'changes' | 'scan' | 'children' | 'quarantine' | 'cursor') => void | Promise<void>
  /** How long an operation is retried while the database is away (default 30 s). */
  retryMs?: number
  /** Told of each retry (a log line). */
  onRetry?: (operation: keyof MirrorStore, err: unknown, attempt: number) => void
}

export type PageWriter = Pick<MirrorStore, 'applyPage' | 'getCursor' | 'childrenDue' | 'childrenBehind'>

export function createPgPageWriter(sql: Sql, options: PgMirrorOptions = {}): PageWriter {
  const step = async (name: Parameters<NonNullable<PgMirrorOptions['afterStep']>>[0]) => options.afterStep?.(name)
  return {
    applyPage: (stream, given, opts = {}) => apply(stream, given, opts),

    childrenDue: (stream, runId, limit) => childrenDue(sql, stream, runId, limit),
    childrenBehind: (stream, records) => childrenBehind(sql, stream, records),

    async getCursor(stream: StreamRef): Promise<Cursor | null> {
      const rows = await sql<{ cursor: Cursor }[]>`
        select cursor from elsync.stream_state where connection = ${stream.connection} and stream = ${stream.stream}`
      return rows[0]?.cursor ?? null
    },
  }

  async function apply(stream: StreamRef, given: Page, opts: ApplyOptions): Promise<ApplyResult> {
    const { page, quarantined: badChildren } = screenChildren(given)
    // made while the previous page was saved (runStream), or here for a page that comes alone
    const prepared = opts.prepared?.of === page.records ? opts.prepared : prepareRecords(page.records)
    const report: SanitizeReport = { nulBytesStripped: prepared.nulBytesStripped }
    const read = prepared.rows
    const bad: QuarantinedItem[] = [...(page.quarantined ?? []), ...badChildren, ...prepared.failed.map((f) => quarantineOf(f.record, f.err))]
    const quarantined = bad.map((q) => sanitize(q, report))
    const grouped = groupQuarantine(quarantined, opts.redact ?? ((t) => t))
    // Four round trips a page: BEGIN, the read of the stored rows, the page's writes, COMMIT
    return sql.begin(async (tx) => {
      const ids = [...new Set(read.map((r) => r.remoteId))]
      // A prepared statement's cached generic plan is made for the table as it was then: one
      // made while the mirror held a page or two rightly scans it, and would keep scanning it
      // at 30 000 rows, once per id. So the read is planned for the table as it is, every page.
      // The page's write is not: its plan does not depend on the table's size (it upserts by the
      // unique key what it was given), and planning it afresh cost a third of its time. The three
      // statements go in one round trip.
      const [, stored] = await allSettledOrThrow([
        tx`set local plan_cache_mode = force_custom_plan`.execute(),
        selectStored(tx, stream, ids).execute(),
        tx`set local plan_cache_mode = auto`.execute(),
      ])
      await step('existing')
      const plan = planPage(read, new Map(stored.map((e) => [e.remoteId, e])))
      // the statements are issued together and the server runs them in this order; each child
      // writer and the quarantine wait only for their own statements' answers
      const writes = allSettledOrThrow([
        writePage(tx, stream, {
          plan,
          seen: [...new Set([...ids, ...quarantined.flatMap((q) => (q.remoteId === null ? [] : [q.remoteId]))])],
          goodIds: ids,
          requarantined: grouped.flatMap((g) => (g.remoteId === null ? [] : [{ remoteId: g.remoteId, reason: g.reason }])),
          ...(page.cursor !== undefined ? { cursor: page.cursor } : {}),
          cause: opts,
        }),
        applyChildren(tx, stream, page),
        markChildrenStale(tx, stream, page),
        saveQuarantine(tx, stream, grouped, opts.runId ?? null),
      ])
      opts.writeSent?.()
      const [, childNuls] = await writes
      report.nulBytesStripped += childNuls
      for (const name of ['records', 'changes', 'scan', 'children', 'quarantine', 'cursor'] as const) await step(name)
      const counts = countWrites(plan)
      return {
        seen: plan.rows.length,
        inserted: counts.insert,
        updated: counts.update,
        restored: counts.restore,
        unchanged: plan.unchanged,
        changes: plan.writes.length,
        nulBytesStripped: report.nulBytesStripped,
        quarantined: quarantined.length,
        childrenStale: page.staleChildren?.length ?? 0,
      }
    }) as Promise<ApplyResult>
  }
}

/** The engine's `MirrorStore` over Postgres: the page writer, the scan store and the run store. */
/**
 * The mirror over Postgres. Every operation is one transaction (or one statement) that can be
 * run again after a dropped connection: a page's upsert skips unchanged rows, scan completion
 * recognises a run it already completed, run bookkeeping is idempotent. So each is retried on
 * transient database errors, bounded by `retryMs`; beyond it the stream fails, not the process.
 */
export function createPgMirror(sql: Sql, options: PgMirrorOptions = {}): MirrorStore {
  const store: MirrorStore = { ...createPgPageWriter(sql, options), ...createPgScanStore(sql), ...createPgRunStore(sql) }
  const retrying = <K extends keyof MirrorStore>(name: K): NonNullable<MirrorStore[K]> =>
    ((...args: unknown[]) =>
      withDbRetry(() => (store[name] as (...a: unknown[]) => Promise<unknown>)(...args), {
        what: `${name} (mirror)`,
        ...(options.retryMs !== undefined ? { maxMs: options.retryMs } : {}),
        ...(options.onRetry ? { onRetry: (err: unknown, attempt: number) => options.onRetry?.(name, err, attempt) } : {}),
      })) as NonNullable<MirrorStore[K]>
  return {
    applyPage: retrying('applyPage'),
    resetScan: retrying('resetScan'),
    completeScan: retrying('completeScan'),
    getCursor: retrying('getCursor'),
    startRun: retrying('startRun'),
    finishRun: retrying('finishRun'),
    childrenDue: retrying('childrenDue'),
    childrenBehind: retrying('childrenBehind'),
  }
}
