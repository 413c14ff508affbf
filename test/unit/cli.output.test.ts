import { describe, expect, it } from 'vitest'
import { summaryLine } from '../../src/app.js'
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
    expect(progressLine({ stream, runId: 1, page: 1, records: 1, changed: 1, requests: 1, budgetLeft: null })).toBe(
      'elean/web page 1: 1 record, 1 changed, 1 request, rate budget left unlimited\n',
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
})
