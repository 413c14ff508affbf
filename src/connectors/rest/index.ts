import type { RestConnection, RestStream } from '../../config/schema.js'
import type { Connector, ReadContext } from '../../engine/ports.js'
import type { Cursor, Page } from '../../engine/types.js'
import type { ConnectorDeps } from '../types.js'
import { checkPath, logReadErrors, scanPages, UnknownStreamError } from '../shared/paging.js'
import { normalizeRest } from './rest.normalize.js'
import { restPages } from './rest.pages.js'

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
  const { http, config, name } = deps
  const log = deps.logger.child({ component: 'connector', kind: 'rest', connection: name })

  const streamConfig = (stream: string): RestStream => {
    const s = config.streams[stream]
    if (!s) throw new UnknownStreamError(`connection ${name} has no stream ${stream}`)
    return s
  }

  async function* read(stream: string, _from: Cursor | null, ctx: ReadContext): AsyncGenerator<Page> {
    const s = streamConfig(stream)
    const what = `${name}/${stream} (GET ${s.path})`
    yield* scanPages(restPages(http, s, { signal: ctx.signal, what, maxPages: opts.maxPages }), (item) => normalizeRest(item, s, what))
  }

  return {
    kind: 'rest',
    read: (stream, from, ctx) => logReadErrors(log, stream, read(stream, from, ctx)),
    readsFully: () => true,
    async check(signal) {
      if (config.healthCheckPath) return checkPath(http, config.healthCheckPath, signal)
      const first = Object.values(config.streams)[0]
      if (!first) return checkPath(http, '', signal)
      const what = `${name} check (GET ${first.path})`
      for await (const { items } of restPages(http, first, { signal, what, probe: true })) items.forEach((item) => normalizeRest(item, first, what))
    },
    stats: () => http.stats(),
  }
}
