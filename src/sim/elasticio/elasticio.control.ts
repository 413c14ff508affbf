import { numberFields, resourceControlRoutes } from '../common/resources.js'
import { parseJsonObject, SimHttpError, type SimRoute } from '../common/server.js'
import { ELASTICIO_RESOURCES, type ElasticioSeed, type ElasticioStore } from './elasticio.store.js'

/** Vendor control routes, mounted under `/_sim`: seed, edit as a human would, delete, dump. */

export function elasticioControl(store: ElasticioStore): SimRoute[] {
  return [
    {
      method: 'POST',
      pattern: '/seed',
      handler: (req) => {
        const b = parseJsonObject(req)
        const spec: ElasticioSeed = numberFields(b, [...ELASTICIO_RESOURCES, 'seed'])
        if (b.workspaceId !== undefined) {
          if (typeof b.workspaceId !== 'string') throw new SimHttpError(400, 'workspaceId must be a string')
          spec.workspaceId = b.workspaceId
        }
        return { status: 201, body: { counts: store.seed(spec), workspaceId: store.workspaceId } }
      },
    },
    ...resourceControlRoutes(store, ELASTICIO_RESOURCES, 'attributes', (resource, id, attributes) => store.update(resource, id, attributes)),
  ]
}
