import pino from 'pino'
import { describe, expect, it } from 'vitest'
import type { ElementumStream } from '../../src/connectors/elementum/index.js'
import type { ElementumApi, SearchQuery } from '../../src/connectors/elementum/elementum.client.js'
import { andFilters, clampPageSize, elementumTokenUrl, paths, windowFilter } from '../../src/connectors/elementum/elementum.client.js'
import { toRemoteComment, toRemoteRecord } from '../../src/connectors/elementum/elementum.normalize.js'
import { readStream, type ReadStreamDeps } from '../../src/connectors/elementum/elementum.read.js'
import { parseComment, parseRecord, parseSearchPage } from '../../src/connectors/elementum/elementum.schemas.js'
import type { Page } from '../../src/engine/types.js'
import { BadResponseError, HttpStatusError } from '../../src/http/errors.js'

// Pure parts of the Elementum connector, and the read loop over an in-memory fake API.

const T0 = new Date('2026-03-01T10:00:00.000Z')
const NOW = new Date('2026-03-01T12:00:00.000Z')
/** The API's clock, ten minutes behind ours. */
const SERVER = new Date('2026-03-01T11:50:00.000Z')
const stream: ElementumStream = { recordType: 'tasks', alias: 'it-requests', cursorField: 'Updated on' }

describe('elementum client helpers', () => {
  it('puts the token endpoint on the API host, not under /v1', () => {
    expect(elementumTokenUrl('https://api.eu.elementum.io/v1')).toBe('https://api.eu.elementum.io/oauth/token')
    expect(elementumTokenUrl('http://127.0.0.1:4321/v1/')).toBe('http://127.0.0.1:4321/oauth/token')
  })

  it('builds an inclusive =bt= window with millisecond ISO bounds, ANDed after the parenthesised stream filter', () => {
    const w = windowFilter('Updated on', T0, NOW)
    expect(w).toBe('Updated on=bt=2026-03-01T10:00:00.000Z:2026-03-01T12:00:00.000Z')
    expect(andFilters('Status==Open,Status==Closed', w)).toBe(`(Status==Open,Status==Closed);${w}`)
    expect(andFilters(undefined, w)).toBe(w)
    expect(andFilters('  ', undefined)).toBeUndefined()
  })

  it('builds an open-ended =ge= window without an end', () => {
    expect(windowFilter('Updated on', T0)).toBe('Updated on=ge=2026-03-01T10:00:00.000Z')
  })

  it('refuses a cursor field that cannot be an unquoted RSQL selector', () => {
    expect(() => windowFilter('Updated;on', T0, NOW)).toThrow(/cursorField/)
  })

  it('clamps the page size to 1..1000 and never lets an id walk the path', () => {
    expect([clampPageSize(5000), clampPageSize(0), clampPageSize(undefined)]).toEqual([1000, 1, 100])
    expect(paths.comments(stream, 'TSK-1')).toBe('tasks/it-requests/TSK-1/comment')
    expect(() => paths.record(stream, '..')).toThrow(BadResponseError)
  })
})

describe('elementum tolerant reading', () => {
  it('treats a search answer without paging as the last page and without total as unknown', () => {
    const p = parseSearchPage({ items: [{ data: { id: 'TSK-1', Title: 'a' } }] }, 'search')
    expect(p).toMatchObject({ hasNext: false, total: null, endCursor: null })
    expect(p.items[0]?.data.id).toBe('TSK-1')
  })

  it('quarantines an item without data.id and reads the rest; the end cursor is the last item’s, bad or not', () => {
    const p = parseSearchPage(
      {
        items: [
          { cursor: 'a', data: { id: 'TSK-1' } },
          { cursor: 'b', data: { Title: 'no id' } },
        ],
        paging: { has_next_page: true },
      },
      'GET',
    )
    expect(p.items.map((i) => i.data.id)).toEqual(['TSK-1'])
    expect(p.quarantined).toEqual([
      { remoteId: null, reason: 'record (data.id missing): item without an id (looked for id)', excerpt: '{"cursor":"b","data":{"Title":"no id"}}' },
    ])
    expect(p).toMatchObject({ hasNext: true, endCursor: 'b' })
  })

  it('reads a single record as the field map or wrapped in {data}', () => {
    expect(parseRecord({ id: 'TSK-2', Title: 'x' }, 'GET').Title).toBe('x')
    expect(parseRecord({ data: { id: 'TSK-2', Title: 'y' } }, 'PUT').Title).toBe('y')
    expect(() => parseRecord('Created', 'POST')).toThrow(BadResponseError)
  })
})

describe('elementum normalization', () => {
  it('maps display-name fields to columns and keeps the rest in fields', () => {
    const r = toRemoteRecord(
      {
        id: 'TSK-12',
        Title: 'Fix VPN',
        Status: 'In Progress',
        Priority: 'P2',
        'Due Date': '2026-04-01T00:00:00.000Z',
        Description: 'd',
        Assignee: 'ada@example.com',
        'Created on': '2026-01-01T00:00:00.000Z',
        'Updated on': '2026-02-01T00:00:00.000Z',
        Site: 'Berlin',
      },
      'Updated on',
    )
    expect(r).toMatchObject({
      remoteId: 'TSK-12',
      externalKey: 'TSK-12',
      status: 'In Progress',
      statusCategory: 'in_progress',
      priority: 'P2',
      assignees: [{ id: null, name: 'ada@example.com' }],
      remoteUpdatedAt: '2026-02-01T00:00:00.000Z',
      fields: { Site: 'Berlin' },
    })
    expect(toRemoteRecord({ id: 'X-1', Status: 'Waiting' }, 'Updated on').statusCategory).toBeNull()
    expect(toRemoteRecord({ id: 'X-1', Status: 'cancelled' }, 'Updated on').statusCategory).toBe('done')
  })

  it('names who created and who last saved the record from its system fields, not among the other fields', () => {
    const data = { id: 'TSK-1', Title: 't', 'Created by': 'ada@example.com', 'Updated by': ' grace@example.com ', Site: 'Berlin' }
    const r = toRemoteRecord(data, 'Updated on')
    expect(r).toMatchObject({ createdBy: 'ada@example.com', updatedBy: 'grace@example.com', fields: { Site: 'Berlin' } })
    expect(toRemoteRecord({ id: 'TSK-2', 'Updated by': { firstName: 'Grace', lastName: 'Hopper' } }, 'Updated on').updatedBy).toBe('Grace Hopper')
    expect(toRemoteRecord({ id: 'TSK-3', 'Created by': '' }, 'Updated on')).toMatchObject({ createdBy: null, updatedBy: null })
  })

  it('names the comment author and marks comments carrying our attribution footer as synced', () => {
    const by = { firstName: 'Grace', lastName: 'Hopper', email: 'grace@example.com' }
    const native = toRemoteComment('TSK-1', parseComment({ id: 'c1', contents: 'Looks good', createdBy: by, source: 'WEB' }, 'c'))
    const synced = toRemoteComment('TSK-1', parseComment({ id: 'c2', contents: 'Done on our side\n\n— Jane Smith via Elean', createdBy: by }, 'c'))
    expect([native.author, native.origin, synced.origin]).toEqual(['Grace Hopper', 'native', 'synced'])
  })
})

type Child = 'comments' | 'attachments' | 'related'

/** A fake API over an array of records, recording each search; `failChild` makes a child read throw. */
function fakeApi(
  records: { id: string; 'Updated on': string }[],
  opts: { serverTime?: Date | null; failChild?: (id: string, what: Child) => Error | undefined } = {},
): ElementumApi & { searches: SearchQuery[]; childReads: string[] } {
  const searches: SearchQuery[] = []
  const childReads: string[] = []
  const child = (what: Child) => async (_ns: unknown, id: string) => {
    childReads.push(`${what} ${id}`)
    const err = opts.failChild?.(id, what)
    if (err) throw err
    return what === 'comments' ? [{ id: `c-${id}`, createdAt: T0.toISOString(), source: 'WEB', contents: `on ${id}`, createdBy: 'ada' }] : []
  }
  return {
    searches,
    childReads,
    async search(_ns, q) {
      searches.push(q)
      const start = q.after ? Number(q.after) : 0
      const slice = records.slice(start, start + q.first)
      const more = start + q.first < records.length
      return {
        items: slice.map((d, i) => ({ cursor: String(start + i + 1), data: d })),
        hasNext: more,
        endCursor: slice.length ? String(start + slice.length) : null,
        total: records.length,
        serverTime: opts.serverTime === undefined ? SERVER : opts.serverTime,
      }
    },
    comments: child('comments'),
    attachments: child('attachments'),
    related: child('related'),
  }
}

const deps = (api: ElementumApi, over: Partial<ReadStreamDeps> = {}): ReadStreamDeps => ({
  api,
  streamName: 'it',
  stream,
  pageSize: 2,
  children: false,
  childConcurrency: 2,
  streamOfAlias: () => null,
  log: pino({ level: 'silent' }),
  ...over,
})
const ctx = (mode: 'full' | 'incremental' = 'incremental') => ({ mode, signal: new AbortController().signal, startedAt: NOW, lookbackMs: 120_000 })
const collect = async (it: AsyncIterable<Page>): Promise<Page[]> => {
  const out: Page[] = []
  for await (const p of it) out.push(p)
  return out
}

describe('elementum read loop', () => {
  const recs = Array.from({ length: 5 }, (_, i) => ({ id: `TSK-${i + 1}`, 'Updated on': T0.toISOString() }))

  it("sets the cursor only on the last page, to the server's time when it answered the first search; the window is open-ended", async () => {
    const api = fakeApi(recs)
    const pages = await collect(readStream(deps(api), { since: T0.toISOString() }, ctx()))
    expect(pages.map((p) => p.records.length)).toEqual([2, 2, 1])
    // our clock (NOW) appears nowhere: neither as the window's end nor as the next cursor
    expect(pages.map((p) => p.cursor)).toEqual([undefined, undefined, { since: SERVER.toISOString() }])
    expect(api.searches[0]?.filter).toBe('Updated on=ge=2026-03-01T09:58:00.000Z')
    expect(api.searches.map((s) => s.after)).toEqual([undefined, '2', '4'])
  })

  it('reads without a date filter when there is no cursor or the mode is full', async () => {
    const api = fakeApi([])
    await collect(readStream(deps(api, { stream: { ...stream, filter: 'Status!=Cancelled' } }), null, ctx()))
    await collect(readStream(deps(api), { since: T0.toISOString() }, ctx('full')))
    expect(api.searches.map((s) => s.filter)).toEqual(['Status!=Cancelled', undefined])
  })

  it('yields one empty page with the new cursor for an empty window, after exactly one search', async () => {
    const api = fakeApi([])
    const pages = await collect(readStream(deps(api, { children: true }), { since: T0.toISOString() }, ctx()))
    expect(pages).toHaveLength(1)
    expect(pages[0]).toMatchObject({ records: [], cursor: { since: SERVER.toISOString() } })
    expect(api.searches).toHaveLength(1)
  })

  it('takes the largest cursor-field value read when the server sends no Date, and keeps the cursor when it read none', async () => {
    const dated = [
      { id: 'TSK-1', 'Updated on': '2026-03-01T11:00:00.000Z' },
      { id: 'TSK-2', 'Updated on': '2026-03-01T11:30:00.000Z' },
      { id: 'TSK-3', 'Updated on': '2026-03-01T10:30:00.000Z' },
    ]
    const pages = await collect(readStream(deps(fakeApi(dated, { serverTime: null })), { since: T0.toISOString() }, ctx()))
    expect(pages.at(-1)?.cursor).toEqual({ since: '2026-03-01T11:30:00.000Z' })
    const empty = await collect(readStream(deps(fakeApi([], { serverTime: null })), { since: T0.toISOString() }, ctx()))
    expect(empty).toEqual([{ records: [] }])
  })
})

describe('elementum bad records', () => {
  it('quarantines a record that cannot be normalized (an assignee nested 5 000 deep) and yields the rest of its page', async () => {
    let assignee: unknown = 'Ada'
    for (let i = 0; i < 5_000; i++) assignee = [assignee]
    const recs = [
      { id: 'TSK-1', 'Updated on': T0.toISOString() },
      { id: 'TSK-2', 'Updated on': T0.toISOString(), Assignee: assignee },
      { id: 'TSK-3', 'Updated on': T0.toISOString() },
    ]
    const pages = await collect(readStream(deps(fakeApi(recs), { pageSize: 10 }), null, ctx()))
    expect(pages.map((p) => p.records.map((r) => r.remoteId))).toEqual([['TSK-1', 'TSK-3']])
    expect(pages[0]?.quarantined).toEqual([
      {
        remoteId: 'TSK-2',
        reason: 'could not be read: Maximum call stack size exceeded',
        excerpt: expect.stringMatching(/^\{"cursor":"2","data":\{"Assignee":\[\[\[/),
      },
    ])
    expect(pages[0]?.cursor).toEqual({ since: SERVER.toISOString() })
  })
})

describe('elementum child reads', () => {
  const recs = [
    { id: 'TSK-1', 'Updated on': '2026-03-01T11:00:00.000Z' },
    { id: 'TSK-2', 'Updated on': '2026-03-01T11:10:00.000Z' },
    { id: 'TSK-3', 'Updated on': '2026-03-01T11:20:00.000Z' },
  ]
  const serverError = () => new HttpStatusError(500, 'GET comment answered 500', undefined, undefined)

  it("lists a record whose children failed after the retries as stale, keeps the page and holds the cursor at that record's stamp", async () => {
    const api = fakeApi(recs, { failChild: (id, what) => (id === 'TSK-2' && what === 'attachments' ? serverError() : undefined) })
    const pages = await collect(readStream(deps(api, { children: true, pageSize: 10 }), { since: T0.toISOString() }, ctx()))
    expect(pages).toHaveLength(1)
    const [page] = pages as [Page]
    expect(page.records.map((r) => r.remoteId)).toEqual(['TSK-1', 'TSK-2', 'TSK-3'])
    expect(page.staleChildren).toEqual(['TSK-2'])
    // TSK-2 is in no child set, not even the comments that were read: its stored children stay whole
    expect(page.comments?.parents).toEqual(expect.arrayContaining(['TSK-1', 'TSK-3']))
    expect(page.comments?.parents).not.toContain('TSK-2')
    expect(page.comments?.items.map((c) => c.parentRemoteId)).not.toContain('TSK-2')
    expect(page.attachments?.parents).not.toContain('TSK-2')
    expect(page.relations?.parents).not.toContain('TSK-2')
    // the next window (since − lookback) reads TSK-2 again
    expect(page.cursor).toEqual({ since: '2026-03-01T11:10:00.000Z' })
  })

  it('reads no children of a record the mirror says are current at its stamp, and asks only about records it took for changed', async () => {
    const api = fakeApi(recs)
    const asked: string[][] = []
    const childrenBehind = async (rs: readonly { remoteId: string; remoteUpdatedAt?: string | null }[]) => {
      asked.push(rs.map((r) => `${r.remoteId}@${r.remoteUpdatedAt}`))
      return new Set(rs.map((r) => r.remoteId).filter((id) => id !== 'TSK-2'))
    }
    const pages = await collect(readStream(deps(api, { children: true, pageSize: 10 }), { since: T0.toISOString() }, { ...ctx(), childrenBehind }))
    expect(asked).toEqual([['TSK-1@2026-03-01T11:00:00.000Z', 'TSK-2@2026-03-01T11:10:00.000Z', 'TSK-3@2026-03-01T11:20:00.000Z']])
    expect(api.childReads.filter((r) => r.startsWith('comments'))).toEqual(['comments TSK-1', 'comments TSK-3'])
    // TSK-2 is in no child set: its stored children stay as they are
    expect(pages[0]?.comments?.parents).toEqual(['TSK-1', 'TSK-3'])
    expect(pages[0]?.records.map((r) => r.remoteId)).toEqual(['TSK-1', 'TSK-2', 'TSK-3'])
    // a full scan asks only about records stamped since the window an incremental read would use (11:12)
    asked.length = 0
    await collect(readStream(deps(fakeApi(recs), { children: true, pageSize: 10 }), { since: '2026-03-01T11:14:00.000Z' }, { ...ctx('full'), childrenBehind }))
    expect(asked).toEqual([['TSK-3@2026-03-01T11:20:00.000Z']])
  })

  it('fails the page on a failure that concerns the whole connection', async () => {
    const api = fakeApi(recs, { failChild: () => new HttpStatusError(429, 'GET comment answered 429', undefined, undefined) })
    await expect(collect(readStream(deps(api, { children: true, pageSize: 10 }), { since: T0.toISOString() }, ctx()))).rejects.toMatchObject({
      code: 'rate_limited',
    })
  })

  it('stops asking after three records failed, marking the rest stale without a request', async () => {
    const many = Array.from({ length: 8 }, (_, i) => ({ id: `TSK-${i + 1}`, 'Updated on': T0.toISOString() }))
    const api = fakeApi(many, { failChild: (_id, what) => (what === 'comments' ? serverError() : undefined) })
    const pages = await collect(readStream(deps(api, { children: true, childConcurrency: 1, pageSize: 4 }), null, ctx()))
    expect(pages.map((p) => p.staleChildren)).toEqual([
      ['TSK-1', 'TSK-2', 'TSK-3', 'TSK-4'],
      ['TSK-5', 'TSK-6', 'TSK-7', 'TSK-8'],
    ])
    expect(api.childReads).toEqual(['comments TSK-1', 'comments TSK-2', 'comments TSK-3'])
    expect(pages.at(-1)?.cursor).toEqual({ since: T0.toISOString() })
  })
})
