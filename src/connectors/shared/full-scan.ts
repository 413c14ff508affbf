import type { FieldCatalog } from '../../engine/catalog.js'
import type { Connector, ReadContext } from '../../engine/ports.js'
import type { Page, RemoteRecord } from '../../engine/types.js'
import { UnknownStreamError } from '../../engine/errors.js'
import type { ConnectorDeps } from '../types.js'
import { checkPath, logReadErrors, scanPages, type RawPage } from './paging.js'

/**
 * The Connector of a read-only API without a modified-since filter (avepoint, elasticio,
 * rest): every read is a full scan of the stream's list, and the health check is the
 * configured path or the first page of the first stream, normalized.
 */

export interface FullScanSpec<S> {
  kind: string
  /** The request behind a stream, for messages: `GET /path`. */
  describe(s: S): string
  /**
   * The raw pages of a stream. `probe` is the health check: ask for one item where the API
   * allows it; only the first page is read.
   */
  pages(s: S, o: { signal: AbortSignal; what: string; probe: boolean }): AsyncIterable<RawPage>
  normalize(item: unknown, s: S, what: string): RemoteRecord
  /** A raw item's id as text, for the quarantine when `normalize` refuses the item (default: its `id`). */
  rawId?(item: unknown, s: S): string | null
  /** What `check` GETs when the connection declares no stream. */
  checkPathWithoutStreams: string
  /** Throws when a declared stream's config cannot be read. */
  validate?(s: S, stream: string): void
  /** The kind's field catalog (read-only kinds too: mappings read from them). */
  fields: FieldCatalog
}

export interface FullScanConnection<S> {
  healthCheckPath?: string | undefined
  streams: Record<string, S>
}

export function createFullScanConnector<S>(deps: ConnectorDeps<FullScanConnection<S>>, spec: FullScanSpec<S>): Connector {
  const { http, config, name } = deps
  const log = deps.logger.child({ component: 'connector', kind: spec.kind, connection: name })

  const streamConfig = (stream: string): S => {
    const s = config.streams[stream]
    if (!s) throw new UnknownStreamError({ connection: name, stream })
    spec.validate?.(s, stream)
    return s
  }

  async function* read(stream: string, ctx: ReadContext): AsyncGenerator<Page> {
    const s = streamConfig(stream)
    const what = `${name}/${stream} (${spec.describe(s)})`
    const rawId = spec.rawId
    yield* scanPages(spec.pages(s, { signal: ctx.signal, what, probe: false }), (item) => spec.normalize(item, s, what), rawId && ((item) => rawId(item, s)))
  }

  return {
    kind: spec.kind,
    read: (stream, _from, ctx) => logReadErrors(log, stream, read(stream, ctx)),
    readsFully: () => true,
    filtersServerSide: () => false,
    async check(signal) {
      if (config.healthCheckPath) return checkPath(http, config.healthCheckPath, signal)
      const first = Object.keys(config.streams)[0]
      if (first === undefined) return checkPath(http, spec.checkPathWithoutStreams, signal)
      const s = streamConfig(first)
      const what = `${name} check (${spec.describe(s)})`
      for await (const { items } of spec.pages(s, { signal, what, probe: true })) {
        for (const item of items) spec.normalize(item, s, what)
        return
      }
    },
    stats: () => http.stats(),
    fields: spec.fields,
  }
}
