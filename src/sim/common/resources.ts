import { isJsonObject, parseJsonObject, SimHttpError, type SimRequest, type SimRoute } from './server.js'

/**
 * Control routes of the simulators whose data is lists of items by resource name
 * (avepoint, elasticio): edit an item as a human would, delete one, dump a resource.
 */

/** The `:resource` route param when it is one of `resources`; otherwise a 404 naming them. */
export function resourceParam<R extends string>(req: SimRequest, resources: readonly R[]): R {
  const r = req.params.resource ?? ''
  if (!(resources as readonly string[]).includes(r)) throw new SimHttpError(404, `Unknown resource ${r}; expected ${resources.join(', ')}`)
  return r as R
}

/** The fields `keys` present in `body`, each of which must be a number (else a 400 naming it). */
export function numberFields<K extends string>(body: Record<string, unknown>, keys: readonly K[]): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {}
  for (const key of keys) {
    const v = body[key]
    if (v === undefined) continue
    if (typeof v !== 'number') throw new SimHttpError(400, `${key} must be a number`)
    out[key] = v
  }
  return out
}

export interface ResourceStore<R extends string> {
  readonly data: Record<R, readonly unknown[]>
  /** False when the item is absent. */
  remove(resource: R, id: string): boolean
}

/**
 * `POST /edit/:resource/:id` (body `{[editKey]: {...}}`, applied by `edit`),
 * `DELETE /items/:resource/:id` and `GET /dump/:resource`.
 */
export function resourceControlRoutes<R extends string>(
  store: ResourceStore<R>,
  resources: readonly R[],
  editKey: string,
  edit: (resource: R, id: string, fields: Record<string, unknown>) => unknown,
): SimRoute[] {
  return [
    {
      method: 'POST',
      pattern: '/edit/:resource/:id',
      handler: (req) => {
        const resource = resourceParam(req, resources)
        const fields = parseJsonObject(req)[editKey]
        if (!isJsonObject(fields)) throw new SimHttpError(400, `Body must be {${editKey}: {...}}`)
        return { status: 200, body: edit(resource, req.params.id ?? '', fields) }
      },
    },
    {
      method: 'DELETE',
      pattern: '/items/:resource/:id',
      handler: (req) => {
        const resource = resourceParam(req, resources)
        if (!store.remove(resource, req.params.id ?? '')) throw new SimHttpError(404, `${resource} ${req.params.id ?? ''} not found`)
        return { status: 204 }
      },
    },
    {
      method: 'GET',
      pattern: '/dump/:resource',
      handler: (req) => {
        const items = store.data[resourceParam(req, resources)]
        return { status: 200, body: { count: items.length, items } }
      },
    },
  ]
}
