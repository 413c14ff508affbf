/**
 * Schemas of the config directory: `connections.yaml` (named connections, each with its
 * streams) and `*.mapping.yaml` (one mapping each). Every connection, whatever its kind, is
 * configured like a REST data source; the kind decides the shape of its streams.
 */
import { z } from 'zod'
import { authSchema } from './schema.auth.js'
import { mappingSchema, type MappingConfig } from './schema.mapping.js'
import { cronExpression, customHeaders, relativePath, secureUrl, slug } from './schema.primitives.js'
import { avepointStreamSchema, elasticioStreamSchema, elementumStreamSchema, eleanStreamSchema, restStreamSchema } from './schema.streams.js'

export * from './schema.auth.js'
export * from './schema.mapping.js'
export * from './schema.streams.js'
export { MAX_CUSTOM_HEADERS, forbiddenHeaderReason } from './schema.primitives.js'

export const CONNECTION_KINDS = ['elementum', 'elean', 'avepoint', 'elasticio', 'rest'] as const
export type ConnectionKind = (typeof CONNECTION_KINDS)[number]

export const DEFAULT_POLL = '*/1 * * * *'
export const DEFAULT_FULL_SCAN = '17 3 * * *'

/** Settings every kind shares. */
const connectionBase = {
  baseUrl: secureUrl,
  /** Relative to baseUrl; used by `elsync check` (else baseUrl itself must answer 200). */
  healthCheckPath: relativePath.optional(),
  headers: customHeaders.optional(),
  auth: authSchema,
  poll: cronExpression.default(DEFAULT_POLL),
  /** When streams read incrementally (Elementum) are also scanned in full, to detect deletions. */
  fullScanSchedule: cronExpression.default(DEFAULT_FULL_SCAN),
  timeoutMs: z.int().min(1).max(600_000).default(60_000),
  rateLimit: z
    .strictObject({
      perMinute: z.int().min(1).optional(),
      concurrency: z.int().min(1).max(100).optional(),
    })
    .optional(),
  /** The longest Retry-After waited out; a longer one fails the stream at once, saying when the API accepts requests again. */
  maxRetryAfterSeconds: z.int().min(0).max(86_400).default(300),
  /** Incremental windows start this far before the last cursor. */
  lookbackSeconds: z.int().min(0).default(120),
  /** A full scan never deletes more than this fraction of a stream without an admin's confirmation. */
  massDeleteFraction: z.number().min(0).max(1).default(0.1),
  /**
   * Complete scans in a row that must miss a record before it is marked deleted: a second
   * look absorbs offset-paging drift that no page could reveal.
   */
  deleteAfterMissedScans: z.int().min(1).max(10).default(2),
}

const streams = <S extends z.ZodType>(stream: S) => z.record(slug('stream name'), stream).default({})

export const elementumConnectionSchema = z.strictObject({
  kind: z.literal('elementum'),
  ...connectionBase,
  streams: streams(elementumStreamSchema),
})
export const eleanConnectionSchema = z.strictObject({
  kind: z.literal('elean'),
  ...connectionBase,
  /** Tasks whose comments are read per scan, one request each (default 20; 0 turns comment polling off). */
  commentsPerScan: z.int().min(0).max(10_000).optional(),
  streams: streams(eleanStreamSchema),
})
export const avepointConnectionSchema = z.strictObject({
  kind: z.literal('avepoint'),
  ...connectionBase,
  streams: streams(avepointStreamSchema),
})
export const elasticioConnectionSchema = z.strictObject({
  kind: z.literal('elasticio'),
  ...connectionBase,
  streams: streams(elasticioStreamSchema),
})
export const restConnectionSchema = z.strictObject({
  kind: z.literal('rest'),
  ...connectionBase,
  streams: streams(restStreamSchema),
})

export const connectionSchema = z.discriminatedUnion('kind', [
  elementumConnectionSchema,
  eleanConnectionSchema,
  avepointConnectionSchema,
  elasticioConnectionSchema,
  restConnectionSchema,
])

export const connectionsFileSchema = z.strictObject({
  connections: z.record(slug('connection name'), connectionSchema),
})

export const mappingFileSchema = mappingSchema

export type ConnectionConfig = z.output<typeof connectionSchema>
export type ElementumConnection = z.output<typeof elementumConnectionSchema>
export type EleanConnection = z.output<typeof eleanConnectionSchema>
export type AvepointConnection = z.output<typeof avepointConnectionSchema>
export type ElasticioConnection = z.output<typeof elasticioConnectionSchema>
export type RestConnection = z.output<typeof restConnectionSchema>
export type StreamConfig = ConnectionConfig['streams'][string]
export type ConnectionsFile = z.output<typeof connectionsFileSchema>

/** The validated config directory. */
export interface Config {
  /** The directory it was loaded from. */
  readonly dir: string
  readonly connections: Readonly<Record<string, ConnectionConfig>>
  /** In file-name order. */
  readonly mappings: readonly MappingConfig[]
}
