/** An `elean` connection in connections.yaml: streams are projects, scanned in full. */
import { z } from 'zod'
import { connectionSchemaOf } from '../../config/schema.connection.js'
import { rsqlFilter, singleLine } from '../../config/schema.primitives.js'

export const eleanStreamSchema = z.strictObject({
  project: singleLine,
  /** Applied after reading: the list endpoint has no filter on arbitrary fields. */
  filter: rsqlFilter.optional(),
})

export const eleanConnectionSchema = connectionSchemaOf('elean', eleanStreamSchema, {
  /** Changed tasks whose comments are read with a scan's pages, one request each (default 20; 0: none, leaving them to the `childBudget` round-robin). */
  commentsPerScan: z.int().min(0).max(10_000).optional(),
})

export type EleanStream = z.output<typeof eleanStreamSchema>
export type EleanConnection = z.output<typeof eleanConnectionSchema>
