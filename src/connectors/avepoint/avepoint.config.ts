/** An `avepoint` connection in connections.yaml: streams are graph resources, scanned in full. */
import { z } from 'zod'
import { connectionSchemaOf } from '../../config/schema.connection.js'
import { relativePath, rsqlFilter } from '../../config/schema.primitives.js'

export const avepointStreamSchema = z.strictObject({
  resource: z.enum(['customers', 'tenants', 'services', 'users']),
  /** Overrides the resource's default path. */
  path: relativePath.optional(),
  /** Applied after reading. */
  filter: rsqlFilter.optional(),
})

export const avepointConnectionSchema = connectionSchemaOf('avepoint', avepointStreamSchema)

export type AvepointStream = z.output<typeof avepointStreamSchema>
export type AvepointConnection = z.output<typeof avepointConnectionSchema>
