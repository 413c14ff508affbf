import { createRestFieldCatalog } from './rest.fields.js'
import type { Connector } from '../../engine/ports.js'
import { type ConnectorDeps, defineConnector } from '../types.js'
import { createFullScanConnector } from '../shared/full-scan.js'
import { normalizeRest } from './rest.normalize.js'
import { restPages } from './rest.pages.js'
import { getPath } from '../shared/paging.js'
import { str } from '../shared/tolerant.js'
import { type RestConnection, restConnectionSchema, restStreamSchema } from './rest.config.js'

export { paginationSchema, restConnectionSchema, restStreamSchema, type PaginationConfig, type RestConnection, type RestStream } from './rest.config.js'

/**
 * Any JSON API as a read-only stream, declared in YAML: where the items are, the id and
 * updated fields, and the pagination style. Nothing says such an API can filter by
 * modification time, so every read is a full scan.
 */

export interface RestOptions {
  /** Pages one read may take before it is stopped as runaway (default 100 000). */
  maxPages?: number
}

export function createRest(deps: ConnectorDeps<RestConnection>, opts: RestOptions = {}): Connector {
  const { http } = deps
  return createFullScanConnector(deps, {
    kind: 'rest',
    describe: (s) => `GET ${s.path}`,
    pages: (s, { signal, what, probe }) => restPages(http, s, probe ? { signal, what, probe } : { signal, what, maxPages: opts.maxPages }),
    normalize: normalizeRest,
    rawId: (item, s) => str(getPath(item, s.idField)),
    fields: createRestFieldCatalog({ streams: deps.config.streams }),
    checkPathWithoutStreams: '',
  })
}

export const restModule = defineConnector({
  kind: 'rest',
  connectionSchema: restConnectionSchema,
  streamSchema: restStreamSchema,
  defaults: {},
  ports: ['fields'],
  children: [],
  create: (deps) => createRest(deps),
})
