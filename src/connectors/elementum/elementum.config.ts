/**
 * An `elementum` connection in connections.yaml: the shared settings and streams of one
 * record type and alias, read incrementally by date windows on `cursorField`.
 */
import { z } from 'zod'
import { connectionSchemaOf } from '../../config/schema.connection.js'
import { nonEmpty, refineRsqlFilter, singleLine } from '../../config/schema.primitives.js'
import { RSQL_MAX_DEPTH } from '../../engine/rsql.js'

export const elementumStreamSchema = z
  .strictObject({
    recordType: z.enum(['apps', 'elements', 'tasks', 'transactions']),
    alias: singleLine,
    /** Display name of the date field used for incremental windows. */
    cursorField: singleLine.default('Updated on'),
    /** Pushed down as RSQL, ANDed with each search's date window; checked below, where the cursorField is known to be a date field. */
    filter: nonEmpty.optional(),
  })
  .superRefine((s, ctx) => {
    // One level of nesting is left for the connector, which sends `(<filter>);<cursorField>=bt=<window>`.
    const options = { dateFields: [s.cursorField], maxDepth: RSQL_MAX_DEPTH - 1 }
    if (s.filter !== undefined) refineRsqlFilter(ctx, s.filter, options, ['filter'])
  })

export const elementumConnectionSchema = connectionSchemaOf('elementum', elementumStreamSchema)

export type ElementumStream = z.output<typeof elementumStreamSchema>
export type ElementumConnection = z.output<typeof elementumConnectionSchema>
