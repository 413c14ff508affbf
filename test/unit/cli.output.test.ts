import { describe, expect, it } from 'vitest'
import { type MappingReconcile, reconcileLines, summaryLine } from '../../src/app.js'
import { progressLine, summaryLines } from '../../src/cli/sync.js'
import type { StreamRunResult } from '../../src/engine/poll.js'

const stream = { connection: 'elean', stream: 'web' }
const run = (over: Partial<StreamRunResult> = {}): StreamRunResult => ({
  runId: 1,
  stream,
  mode: 'full',
  status: 'succeeded',
  pages: 1,
  seen: 3,
  changed: 0,
  deleted: 0,
  quarantined: 0,
  requests: 1,
  nulBytesStripped: 0,
  childrenStale: 0,
  durationMs: 1200,
  ...over,
})

describe('sync output lines', () => {
  it('counts in the singular when there is one', () => {
    expect(summaryLine(run())).toBe('ok     elean/web (full, 1 page, 3 seen, 0 changed, 0 deleted, 1 request, 1.2 s)')
    expect(summaryLine(run({ pages: 2, requests: 3, nulBytesStripped: 1 }))).toBe(
      'ok     elean/web (full, 2 pages, 3 seen, 0 changed, 0 deleted, 3 requests, 1.2 s, 1 NUL byte stripped)',
    )
    expect(progressLine({ stream, runId: 1, page: 1, firstPage: 1, records: 1, changed: 1, requests: 1, budgetLeft: null })).toBe(
      'elean/web page 1: 1 record, 1 changed, 1 request, rate budget left unlimited\n',
    )
    // a full scan's batch of pages, saved together
    expect(progressLine({ stream, runId: 1, page: 10, firstPage: 6, records: 500, changed: 2, requests: 10, budgetLeft: 50 })).toBe(
      'elean/web pages 6–10: 500 records, 2 changed, 10 requests, rate budget left 50\n',
    )
  })

  it('says a run was interrupted, and counts interrupted runs apart from failed ones', () => {
    const stopped = run({ status: 'interrupted', error: { code: 'interrupted', message: 'stopped by SIGINT' } })
    expect(summaryLine(stopped)).toBe('INTERRUPTED elean/web (full, 1 page, 3 seen, 0 changed, 0 deleted, 1 request, 1.2 s): stopped by SIGINT')
    expect(
      summaryLines([run({ stream: { connection: 'a', stream: 'b' } }), stopped])
        .split('\n')
        .at(-2),
    ).toBe('1 of 2 streams succeeded, 1 interrupted')
    expect(summaryLines([])).toBe('')
  })

  it('lists the first five writes and errors a reconcile queued, and every one it planned in a dry run', () => {
    const plan = Array.from({ length: 7 }, (_, i) => `update elean WEB-${i + 1} title: A → B`)
    const errors = Array.from({ length: 6 }, (_, i) => ({ stream, remoteId: `WEB-${i + 1}`, field: 'status', code: 'unmappable_value', message: 'no entry' }))
    const r: MappingReconcile = {
      mappingId: 'm',
      busy: false,
      error: null,
      summary: { changes: 7, records: 7, linksCreated: 0, requests: plan.map(() => ({}) as never), plan, conflicts: [], errors },
    }
    const queued = reconcileLines(r, false).split('\n')
    expect(queued[0]).toBe('mapping m: 7 changes, 7 records, 7 writes queued, 0 conflicts, 6 errors')
    expect(queued.slice(1, 7)).toEqual([...plan.slice(0, 5).map((l) => `  ${l}`), '  … and 2 more writes'])
    expect(queued.slice(7, 13)).toEqual([...[1, 2, 3, 4, 5].map((i) => `  error elean WEB-${i} status: unmappable_value: no entry`), '  … and 1 more error'])
    const planned = reconcileLines(r, true).split('\n')
    expect(planned.filter((l) => l.startsWith('  update ')).length).toBe(7)
    expect(planned.filter((l) => l.startsWith('  error ')).length).toBe(6)
  })
})
