/**
 * What every connection shares, whatever its kind: it is configured like a REST data source
 * (DESIGN.md §1). A vendor module builds its connection schema from this base, its own
 * fields and its stream schema, so that the kind alone decides the shape of its streams.
 */
import { z } from 'zod'
import { authSchema } from './schema.auth.js'
import { cronExpression, customHeaders, relativePath, secureUrl, slug } from './schema.primitives.js'

export const DEFAULT_POLL = '*/1 * * * *'
export const DEFAULT_FULL_SCAN = '17 3 * * *'

export const connectionBase = {
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
  /**
   * Records that did not change whose children (comments, attachments, related items) are read
   * per poll, read longest ago first: a new comment need not move its record's timestamp.
   * Default per kind (Elementum 50, Elean 20); 0 reads only changed records' children.
   */
  childBudget: z.int().min(0).max(10_000).optional(),
}

type Base = typeof connectionBase

/**
 * A kind's connection schema: `kind`, the shared settings, the kind's own settings
 * (`extra`) and its named streams.
 */
export function connectionSchemaOf<const K extends string, S extends z.ZodType, X extends z.ZodRawShape = Record<never, never>>(kind: K, stream: S, extra?: X) {
  const shape = {
    kind: z.literal(kind),
    ...connectionBase,
    ...(extra as X),
    streams: z.record(slug('stream name'), stream).default({}),
  } as { kind: z.ZodLiteral<K> } & Base & X & { streams: z.ZodDefault<z.ZodRecord<z.ZodString, S>> }
  return z.strictObject(shape)
}
