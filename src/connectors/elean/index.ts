import { UnknownStreamError } from '../../engine/errors.js'
import type { Connector, ReadContext } from '../../engine/ports.js'
import type { Cursor, Page } from '../../engine/types.js'
import { logReadErrors } from '../shared/paging.js'
import { type ConnectorDeps, defineConnector } from '../types.js'
import { createEleanApi } from './elean.client.js'
import { type EleanConnection, type EleanStream, eleanConnectionSchema, eleanStreamSchema } from './elean.config.js'
import { statusLookup, type StatusLookup } from './elean.normalize.js'
import { createEleanFieldCatalog } from './elean.fields.js'
import { createEleanWriters } from './elean.write.js'
import { readCommentPage, readProject } from './elean.read.js'

/**
 * The Elean task API (beta) as a Connector (DESIGN.md §1): every read is a full scan of
 * a project's top-level tasks (no updated-since filter exists), comments are read with the
 * pages for a bounded number of changed tasks per scan to stay inside the key's 60 requests a
 * minute (the others' through `childReader`, the engine's round-robin), and statuses are read
 * once per project for the connector's life.
 */

export { EleanAccessError, PAGE_LIMIT } from './elean.client.js'
export { PagingDriftError, type EleanCursor } from './elean.read.js'
export { eleanConnectionSchema, eleanStreamSchema, type EleanConnection, type EleanStream } from './elean.config.js'

export const DEFAULT_COMMENTS_PER_SCAN = 20
/** Tasks that did not change whose comments are read per poll when the connection's `childBudget` is not set. */
export const DEFAULT_CHILD_BUDGET = 20
/** Elean documents 60 requests per minute per key: the connection's budget unless its config says otherwise. */
export const ELEAN_PER_MINUTE = 60

export interface EleanOptions {
  /**
   * Changed tasks whose comments are read with a scan's pages (one request each), default 20;
   * 0 reads none with the pages. Unchanged tasks' comments are the engine's round-robin
   * (`childBudget`). connections.yaml: the connection's `commentsPerScan`.
   */
  commentsPerScan?: number | undefined
}

export function createElean(deps: ConnectorDeps<EleanConnection>, options: EleanOptions = {}): Connector {
  const { config, http, name } = deps
  const api = createEleanApi(http)
  const log = deps.logger.child({ component: 'elean', connection: name })
  const commentsPerScan = Math.max(0, Math.floor(options.commentsPerScan ?? DEFAULT_COMMENTS_PER_SCAN))
  const statusCache = new Map<string, Promise<StatusLookup>>()
  const markers = deps.markers ? { markers: deps.markers } : {}

  const streamConfig = (stream: string): EleanStream => {
    const s = config.streams[stream]
    if (!s) throw new UnknownStreamError({ connection: name, stream })
    return s
  }

  const statuses = (project: string, signal: AbortSignal): Promise<StatusLookup> => {
    let cached = statusCache.get(project)
    if (!cached) {
      cached = api.statuses(project, signal).then(statusLookup)
      statusCache.set(project, cached)
      // a failed read is not cached: the next scan asks again
      cached.catch(() => statusCache.delete(project))
    }
    return cached
  }

  // the stored cursor is not read back: which tasks changed is the mirror's to say (elean.comments.ts)
  async function* read(stream: string, _from: Cursor | null, ctx: ReadContext): AsyncGenerator<Page> {
    const s = streamConfig(stream)
    yield* readProject({ api, stream, project: s.project, statuses: (signal) => statuses(s.project, signal), commentsPerScan, log, ...markers }, ctx)
  }

  return {
    kind: 'elean',
    read: (stream, from, ctx) => logReadErrors(log, stream, read(stream, from, ctx)),
    childReader: {
      requestsPerRecord: 1,
      read: (stream, ids, signal) => readCommentPage({ api, project: streamConfig(stream).project, stream, log }, ids, signal),
    },
    readsFully: () => true,
    filtersServerSide: () => false,

    /** The configured health check, else the statuses of the first stream's project (which proves key, scope and project). */
    async check(signal: AbortSignal): Promise<void> {
      if (config.healthCheckPath) return api.get(config.healthCheckPath, signal)
      const first = Object.values(config.streams)[0]
      if (!first) return api.get('', signal)
      // always a live request (never the cache): the key may have expired since the last read
      const lookup = api.statuses(first.project, signal).then(statusLookup)
      await lookup
      statusCache.set(first.project, lookup)
    },

    stats: () => http.stats(),
    fields: createEleanFieldCatalog({ connection: name, streams: config.streams, statuses }),
    ...createEleanWriters({ http, streamConfig, statuses, ...markers }),
  }
}

export const eleanModule = defineConnector({
  kind: 'elean',
  connectionSchema: eleanConnectionSchema,
  streamSchema: eleanStreamSchema,
  defaults: { perMinute: ELEAN_PER_MINUTE, childBudget: DEFAULT_CHILD_BUDGET },
  ports: ['records', 'recordDeletes', 'comments', 'attachmentReader', 'attachmentUploader', 'fields'],
  children: ['comments', 'attachments'],
  create: (deps) => createElean(deps, { commentsPerScan: deps.config.commentsPerScan }),
})
