/** An `elasticio` connection in connections.yaml: streams are API v2 resources, scanned in full. */
import { z } from 'zod'
import { connectionSchemaOf } from '../../config/schema.connection.js'
import { rsqlFilter, singleLine } from '../../config/schema.primitives.js'

export const elasticioStreamSchema = z
  .strictObject({
    resource: z.enum(['flows', 'lookups', 'credentials', 'users', 'organizations']),
    workspaceId: singleLine.optional(),
    /** Applied after reading. */
    filter: rsqlFilter.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.resource === 'flows' && s.workspaceId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['workspaceId'], message: 'is required for flows (the flows list is per workspace)' })
    }
  })

export const elasticioConnectionSchema = connectionSchemaOf('elasticio', elasticioStreamSchema)

export type ElasticioStream = z.output<typeof elasticioStreamSchema>
export type ElasticioConnection = z.output<typeof elasticioConnectionSchema>
