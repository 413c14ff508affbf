import { describe, expect, it } from 'vitest'
import type { ApplyOptions, ApplyResult, Connector, MirrorStore, ReadContext, RunSummary } from '../../src/engine/ports.js'
import { InterruptedError } from '../../src/engine/errors.js'
import { SCAN_BATCH_PAGES } from '../../src/engine/batch.js'
import type { PageProgress } from '../../src/engine/poll.js'
import { syncPass } from '../../src/engine/sync.js'
import type { Page } from '../../src/engine/types.js'

function fakeMirror() {
  const calls: string[] = []
  const runs = new Map<number, RunSummary>()
  let next = 0
  const applied: ApplyOptions[] = []
  const mirror: MirrorStore = {
    applyPage: async (s, page, opts): Promise<ApplyResult> => {
      applied.push(opts ?? {})
      calls.push(`apply ${s.stream} ${page.records.length}${opts?.scanRunId ? ' scan' : ''}`)
      const quarantined = page.quarantined?.length ?? 0
      return { seen: page.records.length, inserted: 0, updated: 0, restored: 0, unchanged: page.records.length, changes: 0, nulBytesStripped: 0, quarantined }
    },
    resetScan: async (runId) => void calls.push(`reset ${runId}`),
    completeScan: async (s) => (calls.push(`complete ${s.stream}`), { deleted: 0, live: 0, pending: 0 }),
    getCursor: async () => null,
    startRun: async () => ++next,
    finishRun: async (id, summary) => void runs.set(id, summary),
  }
  return { mirror, calls, runs, applied }
}

function fakeConnector(pages: Record<string, (Page | Error)[]>, opts: { skewMs?: number; fully?: boolean; perMinute?: number } = {}) {
  const contexts: ReadContext[] = []
  const connector: Connector = {
    kind: 'fake',
    async *read(stream, _from, ctx) {
      contexts.push(ctx)
      for (const p of pages[stream] ?? []) {
        if (p instanceof Error) throw p
        yield p
      }
    },
    filtersServerSide: () => false,
    readsFully: () => opts.fully ?? false,
    check: async () => {},
    stats: () => ({ requests: 0, budgetLeft: null, budgetPerMinute: opts.perMinute ?? null, skewMs: opts.skewMs ?? 0 }),
  }
  return { connector, contexts }
}

const rec = (id: string) => ({ remoteId: id, document: {} })

describe('syncPass', () => {
  it('widens the incremental lookback by the measured clock skew', async () => {
    const { mirror } = fakeMirror()
    const { connector, contexts } = fakeConnector({ s: [{ records: [rec('1')] }] }, { skewMs: 45_000 })
    await syncPass(mirror, [{ stream: { connection: 'c', stream: 's' }, connector, lookbackSeconds: 120, maxDeleteFraction: 0.1 }], {
      mode: 'incremental',
      signal: new AbortController().signal,
    })
    expect(contexts[0]?.lookbackMs).toBe(165_000)
  })

  it('records a failing stream as failed without completing its scan, and still runs the next one', async () => {
    const { mirror, calls, runs } = fakeMirror()
    const { connector } = fakeConnector({ a: [{ records: [rec('1')] }, new Error('page 2 broke')], b: [{ records: [rec('2')] }] }, { fully: true })
    const results = await syncPass(
      mirror,
      ['a', 'b'].map((s) => ({ stream: { connection: 'c', stream: s }, connector, lookbackSeconds: 0, maxDeleteFraction: 0.1 })),
      { mode: 'incremental', signal: new AbortController().signal, redact: (t) => t.replace('broke', '[x]') },
    )
    expect(results.map((r) => [r.stream.stream, r.status, r.mode])).toEqual([
      ['a', 'failed', 'full'],
      ['b', 'succeeded', 'full'],
    ])
    expect(calls).toEqual(['apply a 1 scan', 'apply b 1 scan', 'complete b'])
    expect(runs.get(1)).toMatchObject({ status: 'failed', pages: 1, error: 'sync_error: page 2 [x]' })
  })

  it('clears scan membership when the connector restarts its scan', async () => {
    const { mirror, calls } = fakeMirror()
    const { connector } = fakeConnector({ a: [{ records: [rec('1')] }, { records: [rec('1')], restartScan: true }] }, { fully: true })
    await syncPass(mirror, [{ stream: { connection: 'c', stream: 'a' }, connector, lookbackSeconds: 0, maxDeleteFraction: 0.1 }], {
      mode: 'full',
      signal: new AbortController().signal,
    })
    expect(calls).toEqual(['apply a 1 scan', 'reset 1', 'apply a 1 scan', 'complete a'])
  })

  it('records the run that read each page as the cause of its changes', async () => {
    const { mirror, applied } = fakeMirror()
    const { connector } = fakeConnector({ a: [{ records: [rec('1')] }, { records: [rec('2')] }], b: [{ records: [rec('3')] }] })
    const targets = ['a', 'b'].map((s) => ({ stream: { connection: 'c', stream: s }, connector, lookbackSeconds: 0, maxDeleteFraction: 0.1 }))
    await syncPass(mirror, targets, { mode: 'incremental', signal: new AbortController().signal, source: 'resync' })
    expect(applied.map(({ prepared, writeSent, ...cause }) => cause)).toEqual([
      { source: 'resync', runId: 1 },
      { source: 'resync', runId: 1 },
      { source: 'resync', runId: 2 },
    ])
    // each page comes with its records already made into mirror rows, made while the page before was saved
    expect(applied.map((a) => a.prepared?.rows.map((r) => r.remoteId))).toEqual([['1'], ['2'], ['3']])
  })

  it('counts quarantined items and records with unread children, in the result and on the run', async () => {
    const { mirror, runs } = fakeMirror()
    const bad = { remoteId: null, reason: 'task: item without an id (looked for id)' }
    const { connector } = fakeConnector({
      a: [
        { records: [rec('1'), rec('2')], quarantined: [bad, { remoteId: '9', reason: 'nested deeper than 256 levels' }], staleChildren: ['1'] },
        { records: [rec('3')], quarantined: [bad], staleChildren: ['3'] },
      ],
    })
    const [result] = await syncPass(mirror, [{ stream: { connection: 'c', stream: 'a' }, connector, lookbackSeconds: 0, maxDeleteFraction: 0.1 }], {
      mode: 'incremental',
      signal: new AbortController().signal,
    })
    expect(result).toMatchObject({ status: 'succeeded', seen: 3, quarantined: 3, childrenStale: 2 })
    expect(runs.get(1)).toMatchObject({ status: 'succeeded', quarantined: 3, childrenStale: 2 })
  })

  it('skips a stream another replica is running', async () => {
    const { mirror, calls } = fakeMirror()
    const { connector } = fakeConnector({ a: [{ records: [rec('1')] }] })
    const busy: string[] = []
    const results = await syncPass(mirror, [{ stream: { connection: 'c', stream: 'a' }, connector, lookbackSeconds: 0, maxDeleteFraction: 0.1 }], {
      mode: 'incremental',
      signal: new AbortController().signal,
      exclusive: async () => 'busy',
      onBusy: (s) => busy.push(s.stream),
    })
    expect(results).toEqual([])
    expect(busy).toEqual(['a'])
    expect(calls).toEqual([])
  })

  it('fails only the stream whose run could not even be recorded, and runs the others', async () => {
    const { mirror, calls } = fakeMirror()
    const start = mirror.startRun
    mirror.startRun = async (stream, mode) => {
      if (stream.stream === 'a') throw Object.assign(new Error('write CONNECTION_CLOSED 127.0.0.1:5432'), { code: 'CONNECTION_CLOSED' })
      return start(stream, mode)
    }
    const { connector } = fakeConnector({ a: [{ records: [rec('1')] }], b: [{ records: [rec('2')] }] })
    const results = await syncPass(
      mirror,
      ['a', 'b'].map((s) => ({ stream: { connection: 'c', stream: s }, connector, lookbackSeconds: 0, maxDeleteFraction: 0.1 })),
      { mode: 'incremental', signal: new AbortController().signal },
    )
    expect(results.map((r) => [r.stream.stream, r.status, r.runId === null])).toEqual([
      ['a', 'failed', true],
      ['b', 'succeeded', false],
    ])
    expect(results[0]?.error?.message).toContain('CONNECTION_CLOSED')
    expect(calls).toEqual(['apply b 1'])
  })

  it('stops a run whose exclusivity was lost between pages', async () => {
    const { mirror, runs } = fakeMirror()
    const lost = new AbortController()
    const { connector } = fakeConnector({ a: [{ records: [rec('1')] }, { records: [rec('2')] }] })
    const pages: number[] = []
    const results = await syncPass(mirror, [{ stream: { connection: 'c', stream: 'a' }, connector, lookbackSeconds: 0, maxDeleteFraction: 0.1 }], {
      mode: 'incremental',
      signal: new AbortController().signal,
      exclusive: (_s, fn) => fn(lost.signal),
      onPage: (p) => {
        pages.push(p.page)
        lost.abort(new Error('lost the lease of stream c/a'))
      },
    })
    expect(pages).toEqual([1])
    expect(results[0]).toMatchObject({ status: 'failed', pages: 1 })
    expect(runs.get(1)).toMatchObject({ status: 'failed', error: expect.stringContaining('lost the lease') })
  })

  it('records a run stopped by an interrupt as interrupted, whatever error the aborted read threw', async () => {
    const { mirror, runs } = fakeMirror()
    const stop = new AbortController()
    const connector: Connector = {
      ...fakeConnector({}).connector,
      async *read(_stream, _from, ctx) {
        yield { records: [rec('1')] }
        // what an aborted request throws is the HTTP layer's business; the signal says why
        if (ctx.signal.aborted) throw new Error('request aborted')
      },
    }
    const results = await syncPass(mirror, [{ stream: { connection: 'c', stream: 'a' }, connector, lookbackSeconds: 0, maxDeleteFraction: 0.1 }], {
      mode: 'incremental',
      signal: stop.signal,
      onPage: () => stop.abort(new InterruptedError('stopped by SIGINT')),
    })
    expect(results[0]).toMatchObject({ status: 'interrupted', pages: 1, error: { code: 'interrupted', message: 'stopped by SIGINT' } })
    expect(runs.get(1)).toMatchObject({ status: 'interrupted', error: 'interrupted: stopped by SIGINT' })
  })
})

describe('batched saves', () => {
  const pagesOf = (n: number): Page[] => Array.from({ length: n }, (_, i) => ({ records: [rec(`r${i + 1}`), rec(`s${i + 1}`)], cursor: { page: i + 1 } }))
  const run = async (pages: (Page | Error)[], mode: 'full' | 'incremental', perMinute?: number) => {
    const { mirror, calls, runs } = fakeMirror()
    const cursors: unknown[] = []
    const applyPage = mirror.applyPage
    mirror.applyPage = (s, page, opts) => (cursors.push(page.cursor), applyPage(s, page, opts))
    const progress: PageProgress[] = []
    const { connector } = fakeConnector({ a: pages }, perMinute === undefined ? {} : { perMinute })
    const [result] = await syncPass(mirror, [{ stream: { connection: 'c', stream: 'a' }, connector, lookbackSeconds: 0, maxDeleteFraction: 0.1 }], {
      mode,
      signal: new AbortController().signal,
      onPage: (p) => progress.push(p),
    })
    return { result, calls, runs, cursors, progress: progress.map((p) => [p.firstPage, p.page, p.records]) }
  }

  it('saves a full scan five pages at a time, each save with its last page cursor and one progress line', async () => {
    expect(SCAN_BATCH_PAGES).toBe(5)
    const { result, calls, cursors, progress } = await run(pagesOf(7), 'full')
    expect(calls).toEqual(['apply a 10 scan', 'apply a 4 scan', 'complete a'])
    expect(cursors).toEqual([{ page: 5 }, { page: 7 }])
    expect(progress).toEqual([
      [1, 5, 10],
      [6, 7, 4],
    ])
    expect(result).toMatchObject({ status: 'succeeded', pages: 7, seen: 14 })
  })

  it('saves a scan page by page when its source is held to a low rate (pages come slower than they are saved)', async () => {
    expect((await run(pagesOf(3), 'full', 60)).calls).toEqual(['apply a 2 scan', 'apply a 2 scan', 'apply a 2 scan', 'complete a'])
    expect((await run(pagesOf(7), 'full', 600)).calls).toEqual(['apply a 10 scan', 'apply a 4 scan', 'complete a'])
  })

  it('saves an incremental poll page by page', async () => {
    const { calls, cursors, progress } = await run(pagesOf(3), 'incremental')
    expect(calls).toEqual(['apply a 2', 'apply a 2', 'apply a 2'])
    expect(cursors).toEqual([{ page: 1 }, { page: 2 }, { page: 3 }])
    expect(progress).toEqual([
      [1, 1, 2],
      [2, 2, 2],
      [3, 3, 2],
    ])
  })

  it('saves the pages read before a failed read, with the cursor of the last of them, and completes no scan', async () => {
    const { result, calls, cursors, runs } = await run([...pagesOf(7), new Error('page 8 broke')], 'full')
    expect(calls).toEqual(['apply a 10 scan', 'apply a 4 scan'])
    expect(cursors).toEqual([{ page: 5 }, { page: 7 }])
    expect(result).toMatchObject({ status: 'failed', pages: 7 })
    expect(runs.get(1)).toMatchObject({ status: 'failed', pages: 7, error: 'sync_error: page 8 broke' })
  })
})
