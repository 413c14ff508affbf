import type { z } from 'zod'
import type { MarkerFormat } from '../engine/attribution.js'
import type { Connector, PortName } from '../engine/ports.js'
import type { Page } from '../engine/types.js'
import type { HttpClient } from '../http/client.js'
import type { Logger } from '../logger.js'

/** What every connector factory (`create<Kind>(deps)`) receives. */
export interface ConnectorDeps<C> {
  /** The connection's name in connections.yaml. */
  name: string
  /** The connection's validated config (kind-specific). */
  config: C
  http: HttpClient
  logger: Logger
  now?: () => Date
  /** A mapping copies watchers from this connection: read them with each record's children. */
  readWatchers?: boolean
  /** The create-marker formats of the configured mappings, stripped from the normalized description (default: elsync's own). */
  markers?: readonly MarkerFormat[]
}

/** What the connection layer assumes for a kind when the config is silent. */
export interface ConnectorDefaults {
  /** Requests per minute when the connection sets no `rateLimit.perMinute` (Elean documents 60 per key). */
  readonly perMinute?: number
  /** The token endpoint of `oauth2-client-credentials` when the config omits `tokenUrl`. */
  readonly tokenUrl?: (baseUrl: string) => string
  /** Unchanged records whose children are read per poll when the connection sets no `childBudget` (kinds that mirror children). */
  readonly childBudget?: number
}

/** Child objects a reader returns with the records of a page (the keys of `Page`). */
export type ChildKind = keyof Pick<Page, 'comments' | 'attachments' | 'relations' | 'watchers'>

/** A connection schema: a strict object whose `kind` is a literal and whose `streams` are named. */
export type ConnectionSchema = z.ZodObject<{ kind: z.ZodLiteral<string>; streams: z.ZodType<Record<string, unknown>> }, z.core.$strict>

/**
 * A vendor as the rest of elsync sees it: everything about a kind lives in its folder and
 * is exported from its `index.ts` as one of these; `registry.ts` lists them.
 */
export interface ConnectorModule<S extends ConnectionSchema = ConnectionSchema> {
  readonly kind: z.output<S>['kind']
  /** One connection of this kind in connections.yaml (shared settings, its own, its streams). */
  readonly connectionSchema: S
  readonly streamSchema: z.ZodType<z.output<S>['streams'][string]>
  readonly defaults: ConnectorDefaults
  /** The role ports `create` implements: config validation refuses a mapping that needs another. */
  readonly ports: readonly PortName[]
  /** Child objects its reader mirrors: a mapping can copy only those from this kind. */
  readonly children: readonly ChildKind[]
  create(deps: ConnectorDeps<z.output<S>>): Connector
}

/** Declares a module, keeping the exact types of its schemas (the config union is built from them). */
export const defineConnector = <S extends ConnectionSchema>(module: ConnectorModule<S>): ConnectorModule<S> => module
