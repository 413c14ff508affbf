import { timingSafeEqual } from 'node:crypto'
import type { FaultBox } from '../common/faults.js'
import { basicCredentials, intParam, parseJsonBody, SimHttpError, type SimRequest, type SimRoute } from '../common/server.js'
import { listDocument, readUpdateDocument, render, sortItems } from './elasticio.jsonapi.js'
import { ELASTICIO_RESOURCES, RESOURCE_TYPE, type ElasticioResource, type ElasticioStore, type JsonApiItem } from './elasticio.store.js'

/** The `/v2` API: JSON:API lists and single objects, PATCH updates, lookup tables (create, replace, delete), flow start/stop. */

/** A lookup table's create or update: exactly `title` and `data`, both required. */
function lookupAttributes(attributes: Record<string, unknown>): Record<string, unknown> {
  for (const key of ['title', 'data']) if (attributes[key] === undefined) throw new SimHttpError(400, `attributes.${key} is required`)
  return attributes
}

export interface ElasticioRouteDeps {
  store: ElasticioStore
  email: string
  apiKey: string
  /** The account the Basic credentials belong to, answered by `GET /v2/users/me`. */
  me: JsonApiItem
  /** Late-bound: the server's fault box exists only once the server is started. */
  faults: () => FaultBox
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

function resourceParam(req: SimRequest): ElasticioResource {
  const r = req.params.resource ?? ''
  if (!(ELASTICIO_RESOURCES as readonly string[]).includes(r)) throw new SimHttpError(404, `Unknown resource /v2/${r}`)
  return r as ElasticioResource
}

/** List filters the vendor documents for each resource; unknown `filter[...]` keys are ignored. */
function filterFor(req: SimRequest, resource: ElasticioResource): { keep: (x: JsonApiItem) => boolean; workspace?: string } {
  const tests: ((x: JsonApiItem) => boolean)[] = []
  const q = req.query
  if (resource === 'flows') {
    const workspace = q.get('workspace_id')
    if (!workspace) throw new SimHttpError(400, 'workspace_id is required to list flows')
    tests.push((x) => x.relationships.workspace?.data.id === workspace)
    const status = q.get('filter[status]')
    if (status !== null && status !== 'active' && status !== 'inactive') throw new SimHttpError(400, 'filter[status] must be active or inactive')
    if (status !== null) tests.push((x) => x.attributes.status === status)
    const type = q.get('filter[type]')
    if (type !== null) tests.push((x) => x.attributes.type === type)
    return { keep: (x) => tests.every((t) => t(x)), workspace }
  }
  if (resource === 'credentials') {
    const component = q.get('filter[component]')
    if (component !== null) tests.push((x) => x.relationships.component?.data.id === component)
  }
  return { keep: (x) => tests.every((t) => t(x)) }
}

export function elasticioRoutes({ store, email, apiKey, me, faults }: ElasticioRouteDeps): SimRoute[] {
  const authorize = (req: SimRequest): void => {
    const basic = basicCredentials(req)
    if (!basic) throw new SimHttpError(401, 'HTTP Basic credentials (email:apiKey) are required', { 'www-authenticate': 'Basic realm="elastic.io"' })
    if (!same(basic.user, email) || !same(basic.password, apiKey))
      throw new SimHttpError(401, 'Wrong email or API key', { 'www-authenticate': 'Basic realm="elastic.io"' })
  }
  const itemOr404 = (resource: ElasticioResource, id: string): JsonApiItem => {
    const item = store.get(resource, id)
    if (!item) throw new SimHttpError(404, `${RESOURCE_TYPE[resource]} ${id} not found`)
    return item
  }
  const one = (resource: ElasticioResource, item: JsonApiItem, status = 200) => ({ status, body: { data: render(resource, item), meta: {} } })
  const setStatus = (status: 'active' | 'inactive') => (req: SimRequest) => {
    authorize(req)
    const flow = itemOr404('flows', req.params.id ?? '')
    return one('flows', store.update('flows', flow.id, { status }), 202)
  }

  return [
    {
      method: 'GET',
      pattern: '/v2/:resource',
      handler: (req) => {
        authorize(req)
        const resource = resourceParam(req)
        const page = { size: intParam(req, 'page[size]', 50, 1, 100), number: intParam(req, 'page[number]', 1, 1, Number.MAX_SAFE_INTEGER) }
        const sort = req.query.get('sort')
        sortItems([], sort) // a bad sort is a 400 before any drift is applied
        const { keep, workspace } = filterFor(req, resource)
        const view = () => sortItems(store.data[resource].filter(keep), sort)
        const drift = faults().take(req.path, ['drift'])
        if (drift) {
          for (const doomed of view().slice(0, drift.delete ?? 0)) store.remove(resource, doomed.id)
          store.insertAtHead(resource, drift.insert ?? (drift.delete ? 0 : 1), workspace)
        }
        return { status: 200, body: listDocument(req, resource, view(), page) }
      },
    },
    {
      method: 'GET',
      pattern: '/v2/users/me',
      handler: (req) => (authorize(req), one('users', me)),
    },
    {
      method: 'GET',
      pattern: '/v2/:resource/:id',
      handler: (req) => {
        authorize(req)
        const resource = resourceParam(req)
        return one(resource, itemOr404(resource, req.params.id ?? ''))
      },
    },
    {
      method: 'PATCH',
      pattern: '/v2/:resource/:id',
      handler: (req) => {
        authorize(req)
        const resource = resourceParam(req)
        const item = itemOr404(resource, req.params.id ?? '')
        const attributes = readUpdateDocument(parseJsonBody(req), RESOURCE_TYPE[resource], item.id)
        return one(resource, store.update(resource, item.id, attributes))
      },
    },
    {
      method: 'POST',
      pattern: '/v2/lookups',
      handler: (req) => {
        authorize(req)
        const attributes = lookupAttributes(readUpdateDocument(parseJsonBody(req), 'lookup', null))
        return one('lookups', store.create('lookups', attributes), 201)
      },
    },
    {
      method: 'PUT',
      pattern: '/v2/lookups/:id',
      handler: (req) => {
        authorize(req)
        const item = itemOr404('lookups', req.params.id ?? '')
        // PUT replaces the whole table: title and data must both be sent
        const attributes = lookupAttributes(readUpdateDocument(parseJsonBody(req), 'lookup', item.id))
        return one('lookups', store.update('lookups', item.id, attributes))
      },
    },
    {
      method: 'DELETE',
      pattern: '/v2/lookups/:id',
      handler: (req) => {
        authorize(req)
        store.remove('lookups', itemOr404('lookups', req.params.id ?? '').id)
        return { status: 204 }
      },
    },
    { method: 'POST', pattern: '/v2/flows/:id/start', handler: setStatus('active') },
    { method: 'POST', pattern: '/v2/flows/:id/stop', handler: setStatus('inactive') },
  ]
}
