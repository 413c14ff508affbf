/**
 * An `elementum` connection in connections.yaml: the shared settings and streams of one
 * record type and alias, read incrementally by date windows on `cursorField`.
 */
import { z } from 'zod'
import { connectionSchemaOf } from '../../config/schema.connection.js'
import { rsqlFilter, singleLine } from '../../config/schema.primitives.js'

export const elementumStreamSchema = z.strictObject({
  recordType: z.enum(['apps', 'elements', 'tasks', 'transactions']),
  alias: singleLine,
  /** Display name of the date field used for incremental windows. */
  cursorField: singleLine.default('Updated on'),
  /** Pushed down as RSQL, ANDed with each search's date window. */
  filter: rsqlFilter.optional(),
})

export const elementumConnectionSchema = connectionSchemaOf('elementum', elementumStreamSchema)

export type ElementumStream = z.output<typeof elementumStreamSchema>
export type ElementumConnection = z.output<typeof elementumConnectionSchema>
