import { createAvepointFieldCatalog } from './avepoint.fields.js'
import type { Connector } from '../../engine/ports.js'
import type { HttpClient } from '../../http/client.js'
import { type ConnectorDeps, defineConnector } from '../types.js'
import { createFullScanConnector } from '../shared/full-scan.js'
import { createPageGuard, type RawPage } from '../shared/paging.js'
import { normalizeAvepoint } from './avepoint.normalize.js'
import { type AvepointConnection, type AvepointStream, avepointConnectionSchema, avepointStreamSchema } from './avepoint.config.js'
import { firstId, PAGE_SIZE, parseAvepointPage, type NextPage } from './avepoint.pages.js'

/**
 * AvePoint Elements (graph API), read-only. The API has no modified-since filter, so
 * every read is a full scan and deletions are found by the engine after a complete one.
 */

export { avepointConnectionSchema, avepointStreamSchema, type AvepointConnection, type AvepointStream } from './avepoint.config.js'

export const AVEPOINT_TOKEN_URL = 'https://identity.avepointonlineservices.com/connect/token'

export const AVEPOINT_PATHS: Record<AvepointStream['resource'], string> = {
  customers: '/partner/external/v3/general/customers',
  tenants: '/partner/external/v3/general/tenants',
  services: '/partner/external/v3/general/services',
  users: '/partner/external/v3/um/users',
}

/** Pages of raw items of one list endpoint, following nextLink or pageIndex as the body says. */
async function* listPages(http: HttpClient, path: string, pageSize: number, signal: AbortSignal, what: string, maxPages?: number): AsyncGenerator<RawPage> {
  const guard = createPageGuard(what, maxPages)
  const route = `GET ${path}`
  let next: NextPage = { kind: 'index', pageIndex: 1 }
  let state = { pageIndex: 1, pageSize, linked: false, previousFirstId: null as string | null }
  while (next) {
    guard.next()
    const req = next.kind === 'link' ? { path: next.url, route, signal } : { path, route, signal, searchParams: { pageIndex: next.pageIndex, pageSize } }
    if (next.kind === 'link') state = { ...state, linked: true }
    else state = { ...state, pageIndex: next.pageIndex }
    const res = await http.request(req)
    const page = parseAvepointPage(res.body, state, what, res.requestId)
    if (page.next?.kind === 'link') guard.follow(page.next.url)
    state = { ...state, previousFirstId: firstId(page.items) }
    next = page.next
    yield { items: page.items, last: page.next === null }
  }
}

export function createAvepoint(deps: ConnectorDeps<AvepointConnection>, opts: { maxPages?: number } = {}): Connector {
  const { http } = deps
  const pathOf = (s: AvepointStream) => s.path ?? AVEPOINT_PATHS[s.resource]
  return createFullScanConnector(deps, {
    kind: 'avepoint',
    describe: (s) => `GET ${pathOf(s)}`,
    pages: (s, { signal, what, probe }) =>
      probe ? listPages(http, pathOf(s), 1, signal, what) : listPages(http, pathOf(s), PAGE_SIZE, signal, what, opts.maxPages),
    normalize: (item, _s, what) => normalizeAvepoint(item, what),
    fields: createAvepointFieldCatalog(),
    checkPathWithoutStreams: '',
  })
}

export const avepointModule = defineConnector({
  kind: 'avepoint',
  connectionSchema: avepointConnectionSchema,
  streamSchema: avepointStreamSchema,
  defaults: { tokenUrl: () => AVEPOINT_TOKEN_URL },
  ports: ['fields'],
  children: [],
  create: (deps) => createAvepoint(deps),
})
