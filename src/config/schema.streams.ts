/**
 * Streams per connection kind. A stream is one collection a connection polls. Its `filter`
 * narrows what is polled and mirrored: pushed down as RSQL to Elementum, applied after
 * reading elsewhere.
 */
import { z } from 'zod'
import { RSQL_MAX_DEPTH } from '../engine/rsql.js'
import { nonEmpty, refineRsqlFilter, relativePath, rsqlFilter, singleLine } from './schema.primitives.js'

const filter = rsqlFilter.optional()

export const elementumStreamSchema = z
  .strictObject({
    recordType: z.enum(['apps', 'elements', 'tasks', 'transactions']),
    alias: singleLine,
    /** Display name of the date field used for incremental windows. */
    cursorField: singleLine.default('Updated on'),
    /** Checked below, where the cursorField is known to be a date field. */
    filter: nonEmpty.optional(),
  })
  .superRefine((s, ctx) => {
    // One level of nesting is left for the connector, which sends `(<filter>);<cursorField>=bt=<window>`.
    const options = { dateFields: [s.cursorField], maxDepth: RSQL_MAX_DEPTH - 1 }
    if (s.filter !== undefined) refineRsqlFilter(ctx, s.filter, options, ['filter'])
  })

export const eleanStreamSchema = z.strictObject({
  project: singleLine,
  filter,
})

export const avepointStreamSchema = z.strictObject({
  resource: z.enum(['customers', 'tenants', 'services', 'users']),
  /** Overrides the resource's default path. */
  path: relativePath.optional(),
  filter,
})

export const elasticioStreamSchema = z
  .strictObject({
    resource: z.enum(['flows', 'lookups', 'credentials', 'users', 'organizations']),
    workspaceId: singleLine.optional(),
    filter,
  })
  .superRefine((s, ctx) => {
    if (s.resource === 'flows' && s.workspaceId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['workspaceId'], message: 'is required for flows (the flows list is per workspace)' })
    }
  })

// ---------------------------------------------------------------- generic REST

const param = singleLine
const pageSize = z.int().min(1).max(10_000).default(100)

export const paginationSchema = z.discriminatedUnion('style', [
  /** One request returns everything. */
  z.strictObject({ style: z.literal('none') }),
  /** `?page=<n>&pageSize=<size>`, numbered from `firstPage`. */
  z.strictObject({
    style: z.literal('page'),
    pageParam: param.default('page'),
    sizeParam: param.default('pageSize'),
    pageSize,
    firstPage: z.int().min(0).default(1),
  }),
  /** `?offset=<n>&limit=<size>`. */
  z.strictObject({
    style: z.literal('offset'),
    offsetParam: param.default('offset'),
    limitParam: param.default('limit'),
    pageSize,
  }),
  /** `?cursor=<token>` with the next token read at `cursorPath` of the body; absent or null ends. */
  z.strictObject({
    style: z.literal('cursor'),
    cursorParam: param.default('cursor'),
    cursorPath: singleLine.default('nextCursor'),
    sizeParam: param.default('limit'),
    pageSize,
  }),
  /**
   * Follow a next-page URL: read at `nextLinkPath` of the body (e.g. `links.next`), or, when
   * that is omitted, from the RFC 8288 `Link: <...>; rel="next"` response header.
   */
  z.strictObject({
    style: z.literal('link'),
    nextLinkPath: singleLine.optional(),
  }),
])

export const restStreamSchema = z.strictObject({
  path: relativePath,
  /** Dotted path to the item array in the body (e.g. `data.items`); omitted: the body is the array. */
  itemsPath: singleLine.optional(),
  idField: singleLine.default('id'),
  /** Field holding the item's last-modified time, if the API has one. */
  updatedField: singleLine.optional(),
  pagination: paginationSchema,
  filter,
})

export type ElementumStream = z.output<typeof elementumStreamSchema>
export type EleanStream = z.output<typeof eleanStreamSchema>
export type AvepointStream = z.output<typeof avepointStreamSchema>
export type ElasticioStream = z.output<typeof elasticioStreamSchema>
export type RestStream = z.output<typeof restStreamSchema>
export type PaginationConfig = z.output<typeof paginationSchema>
