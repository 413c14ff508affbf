import { describe, expect, it } from 'vitest'
import { restConnectionSchema } from '../../src/connectors/rest/index.js'
import { createRest, type RestOptions } from '../../src/connectors/rest/index.js'
import { createPgMirror } from '../../src/db/mirror.store.js'
import { runStream } from '../../src/engine/poll.js'
import { createHttpClient } from '../../src/http/client.js'
import { createTestDb } from '../support/db.js'
import { captureLogs } from '../support/logs.js'
import { serve, type TinyApi } from '../support/tiny-api.js'

const db = await createTestDb()
const { sql } = db
const mirror = createPgMirror(sql)

const ITEMS = Array.from({ length: 250 }, (_, i) => ({
  id: `it-${String(i + 1).padStart(3, '0')}`,
  name: `Item ${i + 1}`,
  status: i % 2 ? 'open' : 'closed',
  updated_at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
  size: i,
}))
const num = (url: URL, name: string, dflt: number) => Number(url.searchParams.get(name) ?? dflt)

let n = 0
async function sync(api: TinyApi, stream: Record<string, unknown>, opts: RestOptions = {}) {
  const connection = `rest-${++n}`
  const config = restConnectionSchema.parse({ kind: 'rest', baseUrl: api.baseUrl, auth: { mode: 'none' }, streams: { things: stream } })
  const logs = captureLogs()
  const http = createHttpClient(
    { name: connection, baseUrl: config.baseUrl, auth: config.auth },
    { logger: logs.logger, redactor: logs.redactor, retry: { attempts: 3, baseMs: 10, maxMs: 50 } },
  )
  const connector = createRest({ name: connection, config, http, logger: logs.logger }, opts)
  const result = await runStream(mirror, {
    stream: { connection, stream: 'things' },
    connector,
    mode: 'incremental',
    signal: AbortSignal.timeout(20_000),
    lookbackMs: 0,
    maxDeleteFraction: 0.5,
  })
  const rows = await sql<
    { remote_id: string; title: string | null; status: string | null; remote_updated_at: string | null; fields: Record<string, unknown> }[]
  >`
    select remote_id, title, status, remote_updated_at, fields from elsync.records where connection = ${connection} order by remote_id`
  return { result, rows, connector }
}
const ids = (rows: { remote_id: string }[]) => rows.map((r) => r.remote_id).sort()
const allIds = ITEMS.map((i) => i.id)

describe('rest connector', () => {
  it('reads a bare-array body in one request when pagination is none', async () => {
    const api = await serve(() => ({ body: ITEMS.slice(0, 7) }))
    const { result, rows } = await sync(api, { path: '/things', pagination: { style: 'none' }, updatedField: 'updated_at' })
    expect(result).toMatchObject({ status: 'succeeded', mode: 'full', seen: 7 })
    expect(api.requests).toEqual(['/api/things'])
    expect(rows[0]).toMatchObject({ remote_id: 'it-001', title: 'Item 1', status: 'closed', fields: { size: 0 } })
    expect(new Date(String(rows[0]?.remote_updated_at)).toISOString()).toBe(ITEMS[0]?.updated_at)
  })

  it('pages by page number from an items path and stops at the empty page after the last full one', async () => {
    const api = await serve((url) => {
      const page = num(url, 'p', 1)
      const size = num(url, 'per_page', 10)
      return { body: { data: { items: ITEMS.slice(0, 200).slice((page - 1) * size, page * size) }, total: 200 } }
    })
    const { result, rows } = await sync(api, {
      path: '/things',
      itemsPath: 'data.items',
      pagination: { style: 'page', pageParam: 'p', sizeParam: 'per_page', pageSize: 100 },
    })
    expect(result).toMatchObject({ status: 'succeeded', seen: 200, pages: 3 })
    expect(api.requests).toEqual(['/api/things?p=1&per_page=100', '/api/things?p=2&per_page=100', '/api/things?p=3&per_page=100'])
    expect(ids(rows)).toEqual(allIds.slice(0, 200))
  })

  it('pages by offset and limit, reads a dotted id field, and stops on a short page when the config says the API honours the size', async () => {
    const keyed = ITEMS.map(({ id, ...rest }) => ({ key: { id }, ...rest }))
    const api = await serve((url) => ({ body: { rows: keyed.slice(num(url, 'offset', 0), num(url, 'offset', 0) + num(url, 'limit', 10)) } }))
    const { result, rows } = await sync(api, {
      path: 'things',
      itemsPath: 'rows',
      idField: 'key.id',
      pagination: { style: 'offset', pageSize: 100, stopWhen: 'shortPage' },
    })
    expect(result).toMatchObject({ status: 'succeeded', seen: 250, pages: 3 })
    expect(api.requests).toEqual(['/api/things?offset=0&limit=100', '/api/things?offset=100&limit=100', '/api/things?offset=200&limit=100'])
    expect(ids(rows)).toEqual(allIds)
  })

  it('follows an opaque cursor read from the body until it is null', async () => {
    const api = await serve((url) => {
      const start = url.searchParams.has('after') ? Number(Buffer.from(url.searchParams.get('after') ?? '', 'base64url').toString()) : 0
      const end = start + num(url, 'limit', 10)
      return { body: { results: ITEMS.slice(start, end), paging: { next: end < ITEMS.length ? Buffer.from(String(end)).toString('base64url') : null } } }
    })
    const { result, rows } = await sync(api, {
      path: '/things',
      itemsPath: 'results',
      pagination: { style: 'cursor', cursorParam: 'after', cursorPath: 'paging.next', pageSize: 100 },
    })
    expect(result).toMatchObject({ status: 'succeeded', seen: 250, pages: 3 })
    expect(api.requests[0]).toBe('/api/things?limit=100')
    expect(api.requests.slice(1).map((r) => new URL(r, 'http://x').searchParams.get('after'))).toEqual(['MTAw', 'MjAw'])
    expect(ids(rows)).toEqual(allIds)
  })

  it('follows relative RFC 8288 Link rel="next" headers and reads epoch-second update times', async () => {
    const epoch = ITEMS.map((i) => ({ ...i, updated_at: Date.parse(i.updated_at) / 1000 }))
    const api = await serve((url) => {
      const page = num(url, 'page', 1)
      const links = [`<things?page=${page + 1}>; rel="next"`, '</api/things?page=1>; rel="first"'].slice(page < 3 ? 0 : 1)
      return { headers: { link: links.join(', ') }, body: epoch.slice((page - 1) * 100, page * 100) }
    })
    const { result, rows } = await sync(api, { path: '/things', updatedField: 'updated_at', pagination: { style: 'link' } })
    expect(result).toMatchObject({ status: 'succeeded', seen: 250, pages: 3 })
    expect(api.requests).toEqual(['/api/things', '/api/things?page=2', '/api/things?page=3'])
    expect(new Date(String(rows[249]?.remote_updated_at)).toISOString()).toBe(ITEMS[249]?.updated_at)
  })

  it('follows a next link read from the body at nextLinkPath', async () => {
    const api = await serve((url) => {
      const page = num(url, 'page', 1)
      return { body: { items: ITEMS.slice((page - 1) * 100, page * 100), links: { next: page < 3 ? `${api.baseUrl}/things?page=${page + 1}` : null } } }
    })
    const { result, rows } = await sync(api, { path: '/things', itemsPath: 'items', pagination: { style: 'link', nextLinkPath: 'links.next' } })
    expect(result).toMatchObject({ status: 'succeeded', seen: 250 })
    expect(api.requests).toHaveLength(3)
    expect(ids(rows)).toEqual(allIds)
  })

  it('stops a next link that points back to a page already read, with a clear error', async () => {
    const api = await serve(() => ({ headers: { link: '</api/things?page=2>; rel="next"' }, body: ITEMS.slice(0, 5) }))
    const { result } = await sync(api, { path: '/things', pagination: { style: 'link' } })
    expect(result).toMatchObject({ status: 'failed', error: { code: 'runaway_paging', message: expect.stringContaining('same next page twice') } })
    expect(api.requests).toEqual(['/api/things', '/api/things?page=2'])
  })

  it('stops at the page-count safety cap when full pages never end, and deletes nothing', async () => {
    const api = await serve(() => ({ body: ITEMS.slice(0, 10) }))
    const stream = { path: '/things', pagination: { style: 'page', pageSize: 10 } }
    const { result, rows } = await sync(api, stream, { maxPages: 5 })
    expect(result).toMatchObject({
      status: 'failed',
      pages: 5,
      deleted: 0,
      error: { code: 'runaway_paging', message: expect.stringContaining('stopped after 5 pages') },
    })
    expect(api.requests).toHaveLength(5)
    expect(rows).toHaveLength(10)
  })

  it('fails with a message naming the items path when the body has another shape', async () => {
    const api = await serve(() => ({ body: { data: { rows: ITEMS.slice(0, 3) } } }))
    const { result } = await sync(api, { path: '/things', itemsPath: 'data.items', pagination: { style: 'none' } })
    expect(result).toMatchObject({
      status: 'failed',
      error: { code: 'bad_response', message: expect.stringMatching(/itemsPath "data\.items".*nothing.*object with keys data/) },
    })
  })

  it('checks with one item of the first stream, or the health check path when configured', async () => {
    const api = await serve((url) => (url.pathname.endsWith('/health') ? { body: { ok: true } } : { body: ITEMS.slice(0, num(url, 'limit', 10)) }))
    const logs = captureLogs()
    const build = (extra: Record<string, unknown>) => {
      const config = restConnectionSchema.parse({
        kind: 'rest',
        baseUrl: api.baseUrl,
        auth: { mode: 'none' },
        streams: { things: { path: '/things', pagination: { style: 'offset' } } },
        ...extra,
      })
      return createRest({
        name: 'rest-check',
        config,
        http: createHttpClient({ name: 'rest-check', baseUrl: config.baseUrl, auth: config.auth }, { logger: logs.logger, redactor: logs.redactor }),
        logger: logs.logger,
      })
    }
    await build({}).check(AbortSignal.timeout(5_000))
    await build({ healthCheckPath: '/health' }).check(AbortSignal.timeout(5_000))
    expect(api.requests).toEqual(['/api/things?offset=0&limit=1', '/api/health'])
  })

  describe('a scan ends on an empty page or a declared end marker, never on a short page alone', () => {
    const FIFTY = ITEMS.slice(0, 50)

    it('reads every record from an API that ignores the page size', async () => {
      // always 20 a page, whatever pageSize asks: the first page is "short"
      const api = await serve((url) => ({ body: FIFTY.slice((num(url, 'page', 1) - 1) * 20, num(url, 'page', 1) * 20) }))
      const { result, rows } = await sync(api, { path: 'things', pagination: { style: 'page', pageSize: 50 } })
      expect(result).toMatchObject({ status: 'succeeded', seen: 50 })
      expect(ids(rows)).toEqual(FIFTY.map((i) => i.id))
      expect(api.requests).toEqual([1, 2, 3, 4].map((p) => `/api/things?page=${p}&pageSize=50`))
    })

    it('reads every record from an API that caps the limit, moving the offset by what it returned', async () => {
      const api = await serve((url) => ({ body: FIFTY.slice(num(url, 'offset', 0), num(url, 'offset', 0) + Math.min(20, num(url, 'limit', 10))) }))
      const { result, rows } = await sync(api, { path: 'things', pagination: { style: 'offset', pageSize: 100 } })
      expect(result).toMatchObject({ status: 'succeeded', seen: 50 })
      expect(ids(rows)).toEqual(FIFTY.map((i) => i.id))
      expect(api.requests).toEqual([0, 20, 40, 50].map((o) => `/api/things?offset=${o}&limit=100`))
    })

    it('stops at the declared total without an extra request', async () => {
      const api = await serve((url) => ({ body: { items: FIFTY.slice((num(url, 'page', 1) - 1) * 20, num(url, 'page', 1) * 20), meta: { total: 50 } } }))
      const { result } = await sync(api, {
        path: 'things',
        itemsPath: 'items',
        pagination: { style: 'page', pageSize: 20, stopWhen: { totalPath: 'meta.total' } },
      })
      expect(result).toMatchObject({ status: 'succeeded', seen: 50 })
      expect(api.requests).toHaveLength(3)
    })

    it('stops when the declared hasMore is false, and reads on while it is true though pages are short', async () => {
      const api = await serve((url) => {
        const page = num(url, 'page', 1)
        return { body: { items: FIFTY.slice((page - 1) * 10, page * 10), hasMore: page * 10 < 50 } }
      })
      const { result } = await sync(api, {
        path: 'things',
        itemsPath: 'items',
        pagination: { style: 'page', pageSize: 25, stopWhen: { hasMorePath: 'hasMore' } },
      })
      expect(result).toMatchObject({ status: 'succeeded', seen: 50 })
      expect(api.requests).toHaveLength(5)
    })

    it('fails the scan, deleting nothing, when the declared end marker is missing', async () => {
      const api = await serve(() => ({ body: { items: FIFTY.slice(0, 10) } }))
      const { result } = await sync(api, {
        path: 'things',
        itemsPath: 'items',
        pagination: { style: 'page', pageSize: 10, stopWhen: { totalPath: 'meta.total' } },
      })
      expect(result).toMatchObject({ status: 'failed', deleted: 0, error: { message: expect.stringContaining('no usable end marker at "meta.total"') } })
    })
  })
})
