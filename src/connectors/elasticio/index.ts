import { createElasticioFieldCatalog } from './elasticio.fields.js'
import { SyncError } from '../../engine/errors.js'
import type { Connector } from '../../engine/ports.js'
import type { HttpClient } from '../../http/client.js'
import { BadResponseError } from '../../http/errors.js'
import { type ConnectorDeps, defineConnector } from '../types.js'
import { type ElasticioConnection, type ElasticioStream, elasticioConnectionSchema, elasticioStreamSchema } from './elasticio.config.js'
import { createFullScanConnector } from '../shared/full-scan.js'
import { badShape, createPageGuard, type RawPage } from '../shared/paging.js'
import { extractList, isObject, num } from '../shared/tolerant.js'
import { createLookupReader } from './elasticio.lookups.js'
import { normalizeElasticio, redactCredential } from './elasticio.normalize.js'

/**
 * elastic.io REST API v2, read-only. JSON:API lists paged by `page[number]`/`page[size]`;
 * no modified-since filter, so every read is a full scan. Its lookup tables serve mappings
 * as value maps (elasticio.lookups.ts).
 */

export { elasticioConnectionSchema, elasticioStreamSchema, type ElasticioConnection, type ElasticioStream } from './elasticio.config.js'

export const PAGE_SIZE = 100

export class MissingWorkspaceError extends SyncError {
  override readonly code = 'config_invalid'
}

/** Whether another page follows: `meta.page < meta.total_pages`, else a full page. */
export function hasNextPage(body: unknown, pageNumber: number, pageSize: number, count: number): boolean {
  if (count === 0) return false
  const meta = isObject(body) && isObject(body.meta) ? body.meta : null
  const totalPages = meta ? num(meta.total_pages) : null
  if (totalPages !== null) return (num(meta?.page) ?? pageNumber) < totalPages
  return count >= pageSize
}

async function* listPages(http: HttpClient, s: ElasticioStream, pageSize: number, signal: AbortSignal, what: string): AsyncGenerator<RawPage> {
  const guard = createPageGuard(what)
  const route = `GET /${s.resource}`
  for (let number = 1; ; number++) {
    guard.next()
    const searchParams = {
      'page[size]': pageSize,
      'page[number]': number,
      // The API's default order (by id) is stable under edits. `-updated_at` would move an
      // item edited mid-scan to page 1, where the scan has already been, and the scan would
      // then report it deleted.
      workspace_id: s.resource === 'flows' ? s.workspaceId : undefined,
    }
    const res = await http.request({ path: s.resource, route, searchParams, signal })
    let items: unknown[]
    try {
      items = extractList(res.body, ['data'], what)
    } catch (err) {
      throw err instanceof BadResponseError ? badShape(err.message, res.requestId) : err
    }
    // secrets go before anything else sees the items
    items = items.map((item) => redactCredential(item, s.resource === 'credentials'))
    const more = hasNextPage(res.body, number, pageSize, items.length)
    yield { items, last: !more }
    if (!more) return
  }
}

export function createElasticio(deps: ConnectorDeps<ElasticioConnection>): Connector {
  const { http, name } = deps
  const lookups = createLookupReader(name, (signal) => listPages(http, { resource: 'lookups' }, PAGE_SIZE, signal, 'GET /lookups'))
  const connector = createFullScanConnector(deps, {
    kind: 'elasticio',
    describe: (s) => `GET /${s.resource}`,
    pages: (s, { signal, what, probe }) => listPages(http, s, probe ? 1 : PAGE_SIZE, signal, what),
    normalize: (item, _s, what) => normalizeElasticio(item, what),
    fields: createElasticioFieldCatalog(),
    checkPathWithoutStreams: 'users/me',
    validate: (s, stream) => {
      if (s.resource === 'flows' && !s.workspaceId)
        throw new MissingWorkspaceError(`connection ${name}, stream ${stream}: flows are listed per workspace; set workspaceId`)
    },
  })
  return { ...connector, lookups }
}

export const elasticioModule = defineConnector({
  kind: 'elasticio',
  connectionSchema: elasticioConnectionSchema,
  streamSchema: elasticioStreamSchema,
  defaults: {},
  ports: ['fields', 'lookups'],
  children: [],
  create: (deps) => createElasticio(deps),
})
