import { describe, expect, it } from 'vitest'
import { elasticioConnectionSchema } from '../../src/connectors/elasticio/index.js'
import { createElasticio, hasNextPage } from '../../src/connectors/elasticio/index.js'
import { normalizeElasticio, redactCredential } from '../../src/connectors/elasticio/elasticio.normalize.js'
import { REDACTED } from '../../src/connectors/shared/tolerant.js'
import type { Page } from '../../src/engine/types.js'
import type { HttpClient, HttpRequest } from '../../src/http/client.js'
import { createLogger } from '../../src/logger.js'
import { Writable } from 'node:stream'

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) })

/** An HttpClient answering from a function, recording each request. */
function fakeHttp(answer: (req: HttpRequest) => unknown): HttpClient & { seen: HttpRequest[] } {
  const seen: HttpRequest[] = []
  return {
    name: 'fake',
    baseUrl: 'https://api.elastic.io/v2/',
    seen,
    request: async <T>(req: HttpRequest) => (seen.push(req), { status: 200, headers: {}, body: answer(req) as T, requestId: undefined }),
    stats: () => ({ requests: seen.length, budgetLeft: null, budgetPerMinute: null, skewMs: 0 }),
  }
}
const ctx = { mode: 'full' as const, signal: AbortSignal.timeout(5_000), startedAt: new Date(), lookbackMs: 0 }
const collect = async (it: AsyncIterable<Page>) => {
  const pages: Page[] = []
  for await (const p of it) pages.push(p)
  return pages
}

describe('elasticio credentials', () => {
  it('replaces every key value, however deeply nested, with the redaction marker and keeps the key names', () => {
    const item = {
      id: 'c1',
      type: 'credential',
      attributes: { name: 'CRM', keys: { oauth: { key: 'secret1', scopes: ['a', 'b'] }, port: 443, enabled: true } },
    }
    const out = redactCredential(item, true)
    expect(out).toEqual({
      id: 'c1',
      type: 'credential',
      attributes: { name: 'CRM', keys: { oauth: { key: REDACTED, scopes: [REDACTED, REDACTED] }, port: REDACTED, enabled: REDACTED } },
    })
    expect(JSON.stringify(out)).not.toContain('secret1')
    expect(item.attributes.keys.oauth.key).toBe('secret1') // the input is not mutated
  })

  it('redacts keys that are not an object as a whole, and credential-typed items in any stream', () => {
    expect(redactCredential({ id: 'c', attributes: { keys: 'plain-secret' } }, true)).toEqual({ id: 'c', attributes: { keys: REDACTED } })
    expect(redactCredential({ id: 'c', type: 'credential', attributes: { keys: { k: 'v' } } }, false)).toMatchObject({ attributes: { keys: { k: REDACTED } } })
    const flow = { id: 'f', type: 'flow', attributes: { keys: { k: 'v' } } }
    expect(redactCredential(flow, false)).toBe(flow)
  })
})

describe('elasticio reading', () => {
  it('sends page[size]=100, page[number] and workspace_id (no sort: id order is stable under edits) for flows, and stops at total_pages', async () => {
    const config = elasticioConnectionSchema.parse({
      kind: 'elasticio',
      baseUrl: 'https://api.elastic.io/v2',
      auth: { mode: 'basic', username: 'a@b.c', password: 'k' },
      streams: { flows: { resource: 'flows', workspaceId: 'ws1' }, orgs: { resource: 'organizations' } },
    })
    const http = fakeHttp((req) => {
      const page = Number(req.searchParams?.['page[number]'])
      return { data: [{ id: `f${page}`, type: 'flow', attributes: { name: 'x' } }], meta: { page, per_page: 100, total: 201, total_pages: 3 } }
    })
    const connector = createElasticio({ name: 'eio', config, http, logger: silent })
    const pages = await collect(connector.read('flows', null, ctx))
    expect(pages.map((p) => p.records.map((r) => r.remoteId))).toEqual([['f1'], ['f2'], ['f3']])
    expect(http.seen.map((r) => r.searchParams)).toEqual([1, 2, 3].map((n) => ({ 'page[size]': 100, 'page[number]': n, workspace_id: 'ws1' })))
    expect(pages[2]?.cursor).toMatchObject({ complete: true, records: 3 })
    expect(pages[0]?.cursor).toBeUndefined()
    http.seen.length = 0
    await collect(connector.read('orgs', null, ctx))
    expect(http.seen[0]?.searchParams).toMatchObject({ workspace_id: undefined })
  })

  it('stops on a short page when meta has no total_pages, and on an empty page', () => {
    expect(hasNextPage({ data: [] }, 1, 100, 100)).toBe(true)
    expect(hasNextPage({ data: [] }, 1, 100, 99)).toBe(false)
    expect(hasNextPage({ meta: { page: 2, total_pages: 2 } }, 2, 100, 100)).toBe(false)
    expect(hasNextPage({ meta: { total_pages: 5 } }, 1, 100, 0)).toBe(false)
  })

  it('titles users by first and last name and keeps relationships as type/id pairs', () => {
    const r = normalizeElasticio(
      {
        id: 'u1',
        type: 'user',
        attributes: { first_name: 'Ada', last_name: 'Lovelace', email: 'ada@x', created_at: 'c', updated_at: 'u' },
        relationships: { organization: { data: { type: 'organization', id: 'o1' }, links: { self: '/v2/organizations/o1' } } },
      },
      'x',
    )
    expect(r).toMatchObject({
      remoteId: 'u1',
      title: 'Ada Lovelace',
      status: null,
      remoteCreatedAt: 'c',
      remoteUpdatedAt: 'u',
      fields: { first_name: 'Ada', email: 'ada@x', relationships: { organization: { type: 'organization', id: 'o1' } } },
    })
  })

  it('fails with a clear message when attributes is not an object', () => {
    expect(() => normalizeElasticio({ id: 'x1', attributes: 'oops' }, 'GET /flows')).toThrow(/GET \/flows: item x1 has attributes of type string/)
  })
})
