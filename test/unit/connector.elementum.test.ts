import pino from 'pino'
import { describe, expect, it } from 'vitest'
import type { ElementumStream } from '../../src/connectors/elementum/index.js'
import type { ElementumApi, SearchQuery } from '../../src/connectors/elementum/elementum.client.js'
import { andFilters, clampPageSize, elementumTokenUrl, paths, windowFilter } from '../../src/connectors/elementum/elementum.client.js'
import { toRemoteComment, toRemoteRecord } from '../../src/connectors/elementum/elementum.normalize.js'
import { readStream, type ReadStreamDeps } from '../../src/connectors/elementum/elementum.read.js'
import { parseComment, parseRecord, parseSearchPage } from '../../src/connectors/elementum/elementum.schemas.js'
import type { Page } from '../../src/engine/types.js'
import { BadResponseError } from '../../src/http/errors.js'

// Pure parts of the Elementum connector, and the read loop over an in-memory fake API.

const T0 = new Date('2026-03-01T10:00:00.000Z')
const NOW = new Date('2026-03-01T12:00:00.000Z')
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

  it('fails clearly on an item without data.id', () => {
    expect(() => parseSearchPage({ items: [{ cursor: 'x', data: { Title: 'no id' } }] }, 'GET tasks/it')).toThrow(/item 0 \(data\.id missing\)/)
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

  it('names the comment author and marks comments carrying our attribution footer as synced', () => {
    const by = { firstName: 'Grace', lastName: 'Hopper', email: 'grace@example.com' }
    const native = toRemoteComment('TSK-1', parseComment({ id: 'c1', contents: 'Looks good', createdBy: by, source: 'WEB' }, 'c'))
    const synced = toRemoteComment('TSK-1', parseComment({ id: 'c2', contents: 'Done on our side\n\n— Jane Smith via Elean', createdBy: by }, 'c'))
    expect([native.author, native.origin, synced.origin]).toEqual(['Grace Hopper', 'native', 'synced'])
  })
})

/** A fake API over an array of records, recording each search. */
function fakeApi(records: { id: string; 'Updated on': string }[]): ElementumApi & { searches: SearchQuery[] } {
  const searches: SearchQuery[] = []
  return {
    searches,
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
      }
    },
    comments: async () => [],
    attachments: async () => [],
    related: async () => [],
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

  it('sets the cursor only on the last page of the window, to the read start time', async () => {
    const api = fakeApi(recs)
    const pages = await collect(readStream(deps(api), { since: T0.toISOString() }, ctx()))
    expect(pages.map((p) => p.records.length)).toEqual([2, 2, 1])
    expect(pages.map((p) => p.cursor)).toEqual([undefined, undefined, { since: NOW.toISOString() }])
    expect(api.searches[0]?.filter).toBe('Updated on=bt=2026-03-01T09:58:00.000Z:2026-03-01T12:00:00.000Z')
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
    expect(pages[0]).toMatchObject({ records: [], cursor: { since: NOW.toISOString() } })
    expect(api.searches).toHaveLength(1)
  })
})
