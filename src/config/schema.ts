/**
 * Schemas of the config directory: `connections.yaml` (named connections, each with its
 * streams) and `*.mapping.yaml` (one mapping each). Every connection, whatever its kind, is
 * configured like a REST data source (schema.connection.ts); each vendor module declares its
 * kind's own settings and streams, and the union of kinds is built from the registry.
 */
import { z } from 'zod'
import { CONNECTOR_MODULES, type ConnectionConfig } from '../connectors/registry.js'
import { mappingSchema, type MappingConfig } from './schema.mapping.js'
import { slug } from './schema.primitives.js'

export * from './schema.auth.js'
export * from './schema.mapping.js'
export { DEFAULT_FULL_SCAN, DEFAULT_POLL } from './schema.connection.js'
export { MAX_CUSTOM_HEADERS, forbiddenHeaderReason } from './schema.primitives.js'
export { CONNECTION_KINDS, type ConnectionConfig, type ConnectionKind } from '../connectors/registry.js'

type Registered = (typeof CONNECTOR_MODULES)[number]['connectionSchema']

export const connectionSchema = z.discriminatedUnion(
  'kind',
  CONNECTOR_MODULES.map((m) => m.connectionSchema) as unknown as readonly [Registered, ...Registered[]],
)

export const DEFAULT_OUTBOX_RETENTION_DAYS = 30

/** The write ledger (`elsync.outbox`, the `elsync.writes` view). */
export const outboxSettingsSchema = z.strictObject({
  /** Days a finished write (sent, ignored, superseded) stays in the ledger; dead writes stay until an admin acts. */
  retentionDays: z.number().int().min(1).max(3650).default(DEFAULT_OUTBOX_RETENTION_DAYS),
})

export const connectionsFileSchema = z.strictObject({
  connections: z.record(slug('connection name'), connectionSchema),
  outbox: outboxSettingsSchema.default({ retentionDays: DEFAULT_OUTBOX_RETENTION_DAYS }),
})

export const mappingFileSchema = mappingSchema

export type StreamConfig = ConnectionConfig['streams'][string]
export type ConnectionsFile = z.output<typeof connectionsFileSchema>
export type OutboxSettings = z.output<typeof outboxSettingsSchema>

/** The validated config directory. */
export interface Config {
  /** The directory it was loaded from. */
  readonly dir: string
  readonly connections: Readonly<Record<string, ConnectionConfig>>
  /** In file-name order. */
  readonly mappings: readonly MappingConfig[]
  /** connections.yaml's `outbox`; absent: the defaults. */
  readonly outbox?: OutboxSettings
}
