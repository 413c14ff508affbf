/**
 * One `*.mapping.yaml`: which two streams are kept in sync and how. Every write option
 * defaults to "do nothing": nothing is written to a vendor unless a mapping asks for it.
 */
import { z } from 'zod'
import { rsqlFilter, scalarText, singleLine, slug } from './schema.primitives.js'

/** Flow of comments, attachments and related items. */
export const syncDirection = z.enum(['none', 'left-to-right', 'right-to-left', 'both'])
export const fieldDirection = z.enum(['both', 'left-to-right', 'right-to-left'])

export const mappingSideSchema = z.strictObject({
  connection: slug('connection name'),
  stream: slug('stream name'),
  /** Narrows which mirrored records take part in this mapping; never changes the mirror. */
  filter: rsqlFilter.optional(),
})

export const fieldMappingSchema = z
  .strictObject({
    left: singleLine,
    right: singleLine,
    direction: fieldDirection.default('both'),
    /**
     * Left value → right value. Read backwards for right-to-left, so each right value must then
     * map back to one left value. A list of right values: the first is written, each maps back.
     */
    values: z.record(z.string(), z.union([scalarText, z.array(scalarText).min(1, { error: 'list at least one value' })])).optional(),
    /** Take the value map from an elastic.io lookup table instead. */
    valuesFrom: z.strictObject({ connection: slug('connection name'), lookup: singleLine }).optional(),
  })
  .superRefine((field, ctx) => {
    if (field.values !== undefined && field.valuesFrom !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['valuesFrom'], message: 'use either values or valuesFrom, not both' })
    }
    if (field.values === undefined || field.direction === 'left-to-right') return
    const leftOf = new Map<string, string>()
    for (const [left, rights] of Object.entries(field.values)) {
      for (const right of typeof rights === 'string' ? [rights] : rights) {
        const other = leftOf.get(right)
        if (other !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['values'],
            message: `"${other}" and "${left}" both map to "${right}", so a right-to-left value cannot be mapped back; make the map one-to-one or set direction: left-to-right`,
          })
        }
        leftOf.set(right, left)
      }
    }
  })

export const attachmentsSchema = z
  .union(
    [
      syncDirection,
      z.strictObject({
        direction: syncDirection,
        /** A file larger than the target accepts becomes a link, a comment with the link, or is skipped. */
        oversize: z.enum(['link', 'comment', 'skip']).default('link'),
      }),
    ],
    { error: 'expected none|left-to-right|right-to-left|both or {direction, oversize}' },
  )
  .transform((a) => (typeof a === 'string' ? { direction: a, oversize: 'link' as const } : a))

export const mappingSchema = z
  .strictObject({
    /** Stable: stored in links and history. */
    id: slug('mapping id'),
    left: mappingSideSchema,
    right: mappingSideSchema,
    create: z.enum(['both', 'left-to-right', 'right-to-left', 'none']).default('none'),
    conflict: z.enum(['newest', 'left', 'right', 'manual']).default('newest'),
    delete: z.enum(['ignore', 'propagate', 'unlink']).default('ignore'),
    fields: z.array(fieldMappingSchema).min(1, { error: 'a mapping needs at least one field' }),
    comments: syncDirection.default('none'),
    attachments: attachmentsSchema.default({ direction: 'none', oversize: 'link' }),
    related: syncDirection.default('none'),
    /** Watchers (by email) added on one side are added on the other; a user the target does not know is skipped and recorded. */
    watchers: syncDirection.default('none'),
    /** Marker line written at the end of the description of records a push creates. */
    marker: singleLine.optional(),
  })
  .superRefine((m, ctx) => {
    if (m.left.connection === m.right.connection && m.left.stream === m.right.stream) {
      ctx.addIssue({ code: 'custom', path: ['right'], message: 'left and right must be different streams' })
    }
    // Two fields writing the same target field would fight over it.
    const writers = { left: new Map<string, number>(), right: new Map<string, number>() }
    m.fields.forEach((f, i) => {
      const targets: ('left' | 'right')[] = []
      if (f.direction !== 'right-to-left') targets.push('right')
      if (f.direction !== 'left-to-right') targets.push('left')
      for (const side of targets) {
        const earlier = writers[side].get(f[side])
        if (earlier !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['fields', i, side],
            message: `${side} field "${f[side]}" is already written by fields[${earlier}]`,
          })
        } else writers[side].set(f[side], i)
      }
    })
  })

export type MappingSide = z.output<typeof mappingSideSchema>
export type FieldMapping = z.output<typeof fieldMappingSchema>
export type SyncDirection = z.output<typeof syncDirection>
export type FieldDirection = z.output<typeof fieldDirection>
export type AttachmentsConfig = z.output<typeof attachmentsSchema>
export type MappingConfig = z.output<typeof mappingSchema>
