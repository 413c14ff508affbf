import { parseJsonBody, SimHttpError, type SimRequest, type SimRoute } from '../common/server.js'
import { isObject } from './elasticio.jsonapi.js'
import { ELASTICIO_RESOURCES, type ElasticioResource, type ElasticioSeed, type ElasticioStore } from './elasticio.store.js'

/** Vendor control routes, mounted under `/_sim`: seed, edit as a human would, delete, dump. */

function resourceParam(req: SimRequest): ElasticioResource {
  const r = req.params.resource ?? ''
  if (!(ELASTICIO_RESOURCES as readonly string[]).includes(r)) throw new SimHttpError(404, `Unknown resource ${r}; expected ${ELASTICIO_RESOURCES.join(', ')}`)
  return r as ElasticioResource
}

function objectBody(req: SimRequest): Record<string, unknown> {
  const body = parseJsonBody(req)
  if (!isObject(body)) throw new SimHttpError(400, 'Body must be a JSON object')
  return body
}

export function elasticioControl(store: ElasticioStore): SimRoute[] {
  return [
    {
      method: 'POST',
      pattern: '/seed',
      handler: (req) => {
        const b = objectBody(req)
        const spec: ElasticioSeed = {}
        for (const key of [...ELASTICIO_RESOURCES, 'seed'] as const) {
          const v = b[key]
          if (v === undefined) continue
          if (typeof v !== 'number') throw new SimHttpError(400, `${key} must be a number`)
          spec[key] = v
        }
        if (b.workspaceId !== undefined) {
          if (typeof b.workspaceId !== 'string') throw new SimHttpError(400, 'workspaceId must be a string')
          spec.workspaceId = b.workspaceId
        }
        return { status: 201, body: { counts: store.seed(spec), workspaceId: store.workspaceId } }
      },
    },
    {
      method: 'POST',
      pattern: '/edit/:resource/:id',
      handler: (req) => {
        const resource = resourceParam(req)
        const { attributes } = objectBody(req)
        if (!isObject(attributes)) throw new SimHttpError(400, 'Body must be {attributes: {...}}')
        return { status: 200, body: store.update(resource, req.params.id ?? '', attributes) }
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
