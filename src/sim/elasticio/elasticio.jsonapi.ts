import { STATUS_CODES } from 'node:http'
import { isJsonObject, SimHttpError, type SimRequest } from '../common/server.js'
import type { ElasticioResource, JsonApiItem } from './elasticio.store.js'

/** JSON:API rendering, sorting and request-document checks for the elastic.io simulator. */

/** JSON:API error objects are the error shape for every status. */
export function elasticioErrorBody(status: number, message: string): unknown {
  return { errors: [{ status: String(status), title: STATUS_CODES[status] ?? 'Error', detail: message }] }
}

/** A resource object with `links.self` on it and on each relationship, as the vendor sends it. */
export function render(resource: ElasticioResource, item: JsonApiItem): unknown {
  const relationships = Object.fromEntries(
    Object.entries(item.relationships).map(([k, rel]) => [k, { data: rel.data, links: { self: `/v2/${rel.data.type}s/${rel.data.id}` } }]),
  )
  return { id: item.id, type: item.type, attributes: item.attributes, relationships, links: { self: `/v2/${resource}/${item.id}` } }
}

const SORT_FIELDS = ['created_at', 'updated_at', 'name'] as const
type SortField = (typeof SORT_FIELDS)[number]

function sortValue(item: JsonApiItem, field: SortField): string {
  if (field !== 'name') return item.attributes[field]
  const a = item.attributes
  if (typeof a.name === 'string') return a.name
  // a lookup table has a title instead
  return typeof a.title === 'string' ? a.title : `${String(a.first_name ?? '')} ${String(a.last_name ?? '')}`
}

/**
 * `sort=created_at|updated_at|name`, `-` for descending, comma-separated keys; ties and the
 * default fall back to id order, which is the array's own order.
 */
export function sortItems(items: readonly JsonApiItem[], sort: string | null): JsonApiItem[] {
  if (sort === null || sort === '') return [...items]
  const keys = sort.split(',').map((raw) => {
    const desc = raw.startsWith('-')
    const field = desc ? raw.slice(1) : raw
    if (!(SORT_FIELDS as readonly string[]).includes(field)) throw new SimHttpError(400, `sort field ${field} is not supported; use ${SORT_FIELDS.join(', ')}`)
    return { field: field as SortField, dir: desc ? -1 : 1 }
  })
  const order = new Map(items.map((x, i) => [x, i]))
  return [...items].sort((x, y) => {
    for (const { field, dir } of keys) {
      const a = sortValue(x, field)
      const b = sortValue(y, field)
      if (a !== b) return a < b ? -dir : dir
    }
    return (order.get(x) ?? 0) - (order.get(y) ?? 0)
  })
}

/** Reads a `{data: {type, id, attributes}}` document addressed to `resource`/`id` of `type`; `id` null: a create, which names none. */
export function readUpdateDocument(body: unknown, type: string, id: string | null): Record<string, unknown> {
  if (!isJsonObject(body) || !isJsonObject(body.data)) throw new SimHttpError(400, 'Body must be a JSON:API document {data: {type, id, attributes}}')
  const data = body.data
  if (typeof data.type !== 'string') throw new SimHttpError(400, 'data.type is required')
  if (id === null && data.id !== undefined) throw new SimHttpError(400, 'data.id is assigned by the server')
  if (id !== null && data.id !== id) throw new SimHttpError(400, `data.id must equal the id in the URL (${id})`)
  if (data.type !== type) throw new SimHttpError(409, `data.type ${data.type} does not match the resource type ${type}`)
  if (data.attributes === undefined) return {}
  if (!isJsonObject(data.attributes)) throw new SimHttpError(400, 'data.attributes must be an object')
  return data.attributes
}

export interface PageParams {
  size: number
  number: number
}

export function listDocument(req: SimRequest, resource: ElasticioResource, items: readonly JsonApiItem[], page: PageParams): unknown {
  const start = (page.number - 1) * page.size
  return {
    data: items.slice(start, start + page.size).map((x) => render(resource, x)),
    meta: { page: page.number, per_page: page.size, total: items.length, total_pages: Math.ceil(items.length / page.size) },
    links: { self: `${req.path}${req.url.search}` },
  }
}
