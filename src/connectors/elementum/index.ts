import { SyncError, toSyncError, UnknownStreamError } from '../../engine/errors.js'
import type { Connector, ReadContext } from '../../engine/ports.js'
import type { Cursor, Page } from '../../engine/types.js'
import { type ConnectorDeps, defineConnector } from '../types.js'
import { clampPageSize, createElementumApi, elementumTokenUrl } from './elementum.client.js'
import { type ElementumConnection, type ElementumStream, elementumConnectionSchema, elementumStreamSchema } from './elementum.config.js'
import { createElementumFieldCatalog } from './elementum.fields.js'
import { createElementumWriters } from './elementum.write.js'
import { readChildPage, readStream, type ReadStreamDeps } from './elementum.read.js'

/**
 * The Elementum records API as a Connector (DESIGN.md §1): incremental date windows on
 * each stream's cursor field, pushed-down RSQL filters, Relay paging, and the children
 * (comments, attachments, related items) of the records that changed; the others' children
 * through `childReader`, for the engine's round-robin.
 */

export { elementumTokenUrl, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './elementum.client.js'
export type { ElementumCursor } from './elementum.read.js'
export { elementumConnectionSchema, elementumStreamSchema, type ElementumConnection, type ElementumStream } from './elementum.config.js'

/** Unchanged records whose children (3 requests each) are read per poll when the connection's `childBudget` is not set. */
export const DEFAULT_CHILD_BUDGET = 50

export interface ElementumOptions {
  /**
   * Read comments, attachments and related items of the changed records of each page (default
   * true): every record of an incremental window, on a full scan those stamped since the last
   * window. Cost: 3 requests per such record (more past 1000 comments or related items) on top of
   * ⌈records / pageSize⌉ searches; an empty window stays 1 request. Unchanged records' children
   * are read by the engine's round-robin (`childBudget`) through `childReader`.
   */
  children?: boolean
  /** Relay page size of searches, 1..1000 (default 100). */
  pageSize?: number
  /** Records whose children are fetched at once (default 4); the connection's rate budget still applies. */
  childConcurrency?: number
}

/** A failed `check`, keeping the underlying error's code (`auth_failed`, `not_found`, ...). */
export class ElementumCheckError extends SyncError {
  override readonly code: string
  override readonly retryable: boolean
  constructor(message: string, cause: SyncError) {
    super(message, { cause })
    this.code = cause.code
    this.retryable = cause.retryable
  }
}

export function createElementum(deps: ConnectorDeps<ElementumConnection>, options: ElementumOptions = {}): Connector {
  const { config, http, name } = deps
  const api = createElementumApi(http)
  const log = deps.logger.child({ component: 'elementum', connection: name })
  const pageSize = clampPageSize(options.pageSize)

  const streamConfig = (stream: string): ElementumStream => {
    const s = config.streams[stream]
    if (!s) throw new UnknownStreamError({ connection: name, stream })
    return s
  }
  const markers = deps.markers ? { markers: deps.markers } : {}
  const streamOfAlias = (alias: string): string | null => Object.entries(config.streams).find(([, s]) => s.alias === alias)?.[0] ?? null

  const readDeps = (stream: string): ReadStreamDeps => ({
    api,
    streamName: stream,
    stream: streamConfig(stream),
    pageSize,
    children: options.children ?? true,
    childConcurrency: Math.max(1, options.childConcurrency ?? 4),
    ...(deps.readWatchers ? { watchers: { http } } : {}),
    streamOfAlias,
    log,
    ...markers,
  })

  return {
    kind: 'elementum',

    read: (stream: string, from: Cursor | null, ctx: ReadContext): AsyncIterable<Page> => readStream(readDeps(stream), from, ctx),
    // comments, attachments and related items, and watchers when a mapping copies them
    childReader: { requestsPerRecord: deps.readWatchers ? 4 : 3, read: (stream, ids, signal) => readChildPage(readDeps(stream), ids, signal) },

    readsFully: () => false,
    // the stream's filter is ANDed into every search as RSQL
    filtersServerSide: () => true,

    /** Authenticates (any request fetches a token) and calls the health check path, or each stream's search with first=1. */
    async check(signal: AbortSignal): Promise<void> {
      const step = async (what: string, run: () => Promise<unknown>): Promise<void> => {
        try {
          await run()
        } catch (err) {
          const e = toSyncError(err)
          throw new ElementumCheckError(`elementum connection ${name}: ${what} failed: ${e.message}`, e)
        }
      }
      if (config.healthCheckPath) {
        const path = config.healthCheckPath
        return step(`health check GET ${path}`, () => http.request({ path, route: 'GET healthCheckPath', signal, expect: 'text' }))
      }
      const streams = Object.entries(config.streams)
      // without streams, a 404 on the base URL still proves the token was accepted
      if (streams.length === 0) return step('GET baseUrl', () => http.request({ path: '', route: 'GET /', signal, expect: 'text', allowStatus: [404] }))
      for (const [stream, s] of streams) {
        await step(`stream ${stream} (search ${s.recordType}/${s.alias})`, () => api.search(s, { first: 1, filter: s.filter }, signal))
      }
    },

    stats: () => http.stats(),
    fields: createElementumFieldCatalog({ streams: config.streams }),
    ...createElementumWriters({ http, streamConfig, streamOfAlias, ...markers }),
  }
}

export const elementumModule = defineConnector({
  kind: 'elementum',
  connectionSchema: elementumConnectionSchema,
  streamSchema: elementumStreamSchema,
  // the token endpoint is on the API host, not under /v1
  defaults: { tokenUrl: elementumTokenUrl, childBudget: DEFAULT_CHILD_BUDGET },
  ports: ['records', 'comments', 'attachmentReader', 'attachmentUploader', 'relations', 'watchers', 'fields'],
  children: ['comments', 'attachments', 'relations', 'watchers'],
  create: (deps) => createElementum(deps),
})
