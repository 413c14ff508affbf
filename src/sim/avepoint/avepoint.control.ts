import { parseJsonBody, SimHttpError, type SimRequest, type SimRoute } from '../common/server.js'
import { AVEPOINT_RESOURCES, type AvepointResource, type AvepointSeed, type AvepointStore } from './avepoint.store.js'

/** Vendor control routes, mounted under `/_sim`: seed, edit as a human would, delete, dump. */

function resourceParam(req: SimRequest): AvepointResource {
  const r = req.params.resource ?? ''
  if (!(AVEPOINT_RESOURCES as readonly string[]).includes(r)) throw new SimHttpError(404, `Unknown resource ${r}; expected ${AVEPOINT_RESOURCES.join(', ')}`)
  return r as AvepointResource
}

function objectBody(req: SimRequest): Record<string, unknown> {
  const body = parseJsonBody(req)
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new SimHttpError(400, 'Body must be a JSON object')
  return body as Record<string, unknown>
}

export function avepointControl(store: AvepointStore): SimRoute[] {
  return [
    {
      method: 'POST',
      pattern: '/seed',
      handler: (req) => {
        const b = objectBody(req)
        const spec: AvepointSeed = {}
        for (const key of ['customers', 'tenantsPerCustomer', 'usersPerTenant', 'services', 'seed'] as const) {
          const v = b[key]
          if (v === undefined) continue
          if (typeof v !== 'number') throw new SimHttpError(400, `${key} must be a number`)
          spec[key] = v
        }
        return { status: 201, body: { counts: store.seed(spec) } }
      },
    },
    {
      method: 'POST',
      pattern: '/edit/:resource/:id',
      handler: (req) => {
        const resource = resourceParam(req)
        const { fields } = objectBody(req)
        if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw new SimHttpError(400, 'Body must be {fields: {...}}')
        return { status: 200, body: store.edit(resource, req.params.id ?? '', fields as Record<string, unknown>) }
      },
    },
    {
      method: 'DELETE',
      pattern: '/items/:resource/:id',
      handler: (req) => {
        const resource = resourceParam(req)
        if (!store.remove(resource, req.params.id ?? '')) throw new SimHttpError(404, `${resource} ${req.params.id ?? ''} not found`)
        return { status: 204 }
      },
    },
    {
      method: 'GET',
      pattern: '/dump/:resource',
      handler: (req) => {
        const items = store.data[resourceParam(req)]
        return { status: 200, body: { count: items.length, items } }
      },
    },
  ]
}
