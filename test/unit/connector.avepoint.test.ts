import { describe, expect, it } from 'vitest'
import { normalizeAvepoint } from '../../src/connectors/avepoint/avepoint.normalize.js'
import { parseAvepointPage, type PageState } from '../../src/connectors/avepoint/avepoint.pages.js'

const state = (over: Partial<PageState> = {}): PageState => ({ pageIndex: 1, pageSize: 100, linked: false, previousFirstId: null, ...over })
const items = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ id: `c${from + i}` }))

describe('avepoint paging', () => {
  it('asks for the next pageIndex while metadata.totalCount says more remain', () => {
    const body = { data: items(100), metadata: { pageIndex: 1, pageSize: 100, totalCount: 250 } }
    expect(parseAvepointPage(body, state(), 'x', undefined).next).toEqual({ kind: 'index', pageIndex: 2 })
    const last = { data: items(50, 200), metadata: { pageIndex: 3, pageSize: 100, totalCount: 250 } }
    expect(parseAvepointPage(last, state({ pageIndex: 3, previousFirstId: 'c100' }), 'x', undefined).next).toBeNull()
  })

  it('stops exactly at totalCount when it is a multiple of the page size', () => {
    const body = { data: items(100, 100), metadata: { pageIndex: 2, pageSize: 100, totalCount: 200 } }
    expect(parseAvepointPage(body, state({ pageIndex: 2, previousFirstId: 'c0' }), 'x', undefined).next).toBeNull()
  })

  it('follows a non-empty nextLink and treats an empty or null nextLink as the end', () => {
    const url = 'https://graph.avepointonlineservices.com/aos/jobs?top=100&skip=100'
    expect(parseAvepointPage({ value: items(100), nextLink: url }, state(), 'x', undefined)).toMatchObject({ next: { kind: 'link', url } })
    expect(parseAvepointPage({ value: items(100), nextLink: '' }, state(), 'x', undefined).next).toBeNull()
    expect(parseAvepointPage({ value: items(100), nextLink: null }, state(), 'x', undefined).next).toBeNull()
    expect(parseAvepointPage({ value: items(100) }, state({ linked: true }), 'x', undefined).next).toBeNull()
  })

  it('reads OData value lists without metadata and stops on a short page', () => {
    expect(parseAvepointPage({ '@odata.context': 'ctx', value: items(100) }, state(), 'x', undefined).next).toEqual({ kind: 'index', pageIndex: 2 })
    expect(parseAvepointPage({ value: items(3) }, state(), 'x', undefined)).toMatchObject({ items: items(3), next: null })
  })

  it('refuses an endpoint that ignores pageIndex instead of looping on the same page', () => {
    expect(() => parseAvepointPage({ value: items(100) }, state({ pageIndex: 2, previousFirstId: 'c0' }), 'GET /x', 'rid-1')).toThrow(
      /repeats the previous page.*request-id rid-1/,
    )
  })

  it('names the shape and the request id when the body holds no list', () => {
    expect(() => parseAvepointPage({ error: 'nope', total: 3 }, state(), 'GET /customers', 'rid-2')).toThrow(
      expect.objectContaining({
        code: 'bad_response',
        message: expect.stringMatching(/GET \/customers: expected a list .*object with keys error, total \(request-id rid-2\)/),
      }),
    )
  })
})

describe('avepoint normalization', () => {
  it('maps a customer: name as title, status, modified and created times, the rest as fields', () => {
    const item = {
      id: 'c1',
      customerName: 'Contoso Ltd',
      customerType: 'Trial',
      status: 'Active',
      createdTime: '2025-01-01T00:00:00Z',
      lastModifiedTime: '2026-02-01T00:00:00Z',
    }
    expect(normalizeAvepoint(item, 'x')).toEqual({
      remoteId: 'c1',
      title: 'Contoso Ltd',
      status: 'Active',
      remoteCreatedAt: '2025-01-01T00:00:00Z',
      remoteUpdatedAt: '2026-02-01T00:00:00Z',
      fields: { customerType: 'Trial' },
      document: item,
    })
  })

  it('derives a user status from accountEnabled and prefers displayName over the principal name', () => {
    const r = normalizeAvepoint({ id: 'u1', userPrincipalName: 'ada@x', displayName: 'Ada', accountEnabled: false, tenantId: 't1' }, 'x')
    expect(r).toMatchObject({ title: 'Ada', status: 'disabled', fields: { userPrincipalName: 'ada@x', tenantId: 't1' } })
    expect(r.fields).not.toHaveProperty('accountEnabled')
    expect(normalizeAvepoint({ id: 'u2', userPrincipalName: 'bob@x', accountEnabled: true }, 'x')).toMatchObject({ title: 'bob@x', status: 'enabled' })
  })

  it('rejects an item without an id', () => {
    expect(() => normalizeAvepoint({ customerName: 'No id' }, 'GET /customers')).toThrow(/item without an id/)
  })
})
