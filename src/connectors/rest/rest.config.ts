/**
 * A `rest` connection in connections.yaml: any JSON API mirrored read-only, each stream
 * declaring where its items are, their id and updated fields, and how it pages.
 */
import { z } from 'zod'
import { connectionSchemaOf } from '../../config/schema.connection.js'
import { relativePath, rsqlFilter, singleLine } from '../../config/schema.primitives.js'

const param = singleLine
const pageSize = z.int().min(1).max(10_000).default(100)

/**
 * How a numbered (page or offset) scan knows it has read the last page. Many APIs ignore or
 * cap the page size, so a short page alone proves nothing: by default the scan ends on an
 * empty page (one request more). `shortPage` trusts the API to honour the size; the object
 * forms read a declared end marker from the body. An empty page always ends the scan.
 */
export const stopWhenSchema = z
  .union(
    [
      z.enum(['emptyPage', 'shortPage']),
      z.strictObject({ hasMorePath: singleLine }),
      z.strictObject({ totalPath: singleLine }),
      z.strictObject({ totalPagesPath: singleLine }),
    ],
    { error: 'expected emptyPage | shortPage | {hasMorePath} | {totalPath} | {totalPagesPath}' },
  )
  .default('emptyPage')

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
    stopWhen: stopWhenSchema,
  }),
  /** `?offset=<n>&limit=<size>`. */
  z.strictObject({
    style: z.literal('offset'),
    offsetParam: param.default('offset'),
    limitParam: param.default('limit'),
    pageSize,
    stopWhen: stopWhenSchema,
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
  /** Fields naming who created the item and who last changed it, if the API has them (a name, an e-mail, an id, or a user object). */
  createdByField: singleLine.optional(),
  updatedByField: singleLine.optional(),
  pagination: paginationSchema,
  /** Applied after reading. */
  filter: rsqlFilter.optional(),
})

export const restConnectionSchema = connectionSchemaOf('rest', restStreamSchema)

export type PaginationConfig = z.output<typeof paginationSchema>
export type StopWhen = z.output<typeof stopWhenSchema>
export type RestStream = z.output<typeof restStreamSchema>
export type RestConnection = z.output<typeof restConnectionSchema>
