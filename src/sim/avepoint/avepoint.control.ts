import { numberFields, resourceControlRoutes } from '../common/resources.js'
import { parseJsonObject, type SimRoute } from '../common/server.js'
import { AVEPOINT_RESOURCES, type AvepointSeed, type AvepointStore } from './avepoint.store.js'

/** Vendor control routes, mounted under `/_sim`: seed, edit as a human would, delete, dump. */

export function avepointControl(store: AvepointStore): SimRoute[] {
  return [
    {
      method: 'POST',
      pattern: '/seed',
      handler: (req) => {
        const spec: AvepointSeed = numberFields(parseJsonObject(req), ['customers', 'tenantsPerCustomer', 'usersPerTenant', 'services', 'seed'])
        return { status: 201, body: { counts: store.seed(spec) } }
      },
    },
    ...resourceControlRoutes(store, AVEPOINT_RESOURCES, 'fields', (resource, id, fields) => store.edit(resource, id, fields)),
  ]
}
