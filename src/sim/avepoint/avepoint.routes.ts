import { randomUUID } from 'node:crypto'
import type { FaultBox } from '../common/faults.js'
import { intParam, parseJsonObject, SimHttpError, type SimHandler, type SimRequest, type SimRoute } from '../common/server.js'
import { PERMISSIONS, type AvepointAuth } from './avepoint.auth.js'
import type { AvepointResource, AvepointScope, AvepointStore, Tenant } from './avepoint.store.js'

/** The graph host: v3 Elements endpoints for customers, tenants, services and users. */

const GENERAL = '/partner/external/v3/general'
const UM = '/partner/external/v3/um'
const USER_READ = [PERMISSIONS.usersRead, PERMISSIONS.usersWrite]

export interface AvepointRouteDeps {
  store: AvepointStore
  auth: AvepointAuth
  /** Late-bound: the server's fault box exists only once the server is started. */
  faults: () => FaultBox
}

/** Every graph response, errors included, carries a `request-id` to quote to support. */
export function withRequestId(handler: SimHandler): SimHandler {
  return async (req) => {
    const requestId = randomUUID()
    try {
      const out = await handler(req)
      return { ...out, headers: { ...out.headers, 'request-id': requestId } }
    } catch (err) {
      if (err instanceof SimHttpError) throw new SimHttpError(err.status, err.message, { ...err.headers, 'request-id': requestId })
      throw err
    }
  }
}

interface PageParams {
  pageIndex: number
  pageSize: number
}

function pageParams(req: SimRequest): PageParams {
  return { pageIndex: intParam(req, 'pageIndex', 1, 1, Number.MAX_SAFE_INTEGER), pageSize: intParam(req, 'pageSize', 50, 1, 100) }
}

function paged<T>(items: readonly T[], { pageIndex, pageSize }: PageParams) {
  const start = (pageIndex - 1) * pageSize
  return { data: items.slice(start, start + pageSize), metadata: { pageIndex, pageSize, totalCount: items.length } }
}

export function avepointRoutes({ store, auth, faults }: AvepointRouteDeps): SimRoute[] {
  const { data } = store

  const drift = (req: SimRequest, resource: AvepointResource, scope: AvepointScope = {}): void => {
    const fault = faults().take(req.path, ['drift'])
    if (!fault) return
    const remove = fault.delete ?? 0
    store.drift(resource, scope, { delete: remove, insert: fault.insert ?? (remove > 0 ? 0 : 1) })
  }
  const customerOr404 = (id: string) => {
    const customer = data.customers.find((c) => c.id === id)
    if (!customer) throw new SimHttpError(404, `Customer ${id} not found`)
    return customer
  }
  const tenantOr404 = (customerId: string, id: string): Tenant => {
    customerOr404(customerId)
    const tenant = data.tenants.find((t) => t.customerId === customerId && (t.id === id || t.tenantId === id))
    if (!tenant) throw new SimHttpError(404, `Tenant ${id} not found for customer ${customerId}`)
    return tenant
  }
  /** Checks paging before drift so a rejected request changes nothing. */
  const list = <T>(req: SimRequest, resource: AvepointResource, items: () => readonly T[], scope: AvepointScope = {}) => {
    const page = pageParams(req)
    drift(req, resource, scope)
    return { status: 200, body: paged(items(), page) }
  }

  const routes: SimRoute[] = [
    {
      method: 'GET',
      pattern: `${GENERAL}/customers`,
      handler: (req) => (auth.authorize(req, [PERMISSIONS.customers]), list(req, 'customers', () => data.customers)),
    },
    {
      method: 'POST',
      pattern: `${GENERAL}/customers/batch`,
      handler: (req) => {
        auth.authorize(req, [PERMISSIONS.customers])
        const body = parseJsonObject(req)
        const ids = body.customerIds
        if (ids !== undefined && !(Array.isArray(ids) && ids.every((x) => typeof x === 'string')))
          throw new SimHttpError(400, 'customerIds must be an array of strings')
        const wanted = ids === undefined ? undefined : new Set(ids as string[])
        return list(req, 'customers', () => (wanted ? data.customers.filter((c) => wanted.has(c.id)) : data.customers))
      },
    },
    {
      method: 'GET',
      pattern: `${GENERAL}/customers/:customerId`,
      handler: (req) => {
        auth.authorize(req, [PERMISSIONS.customers])
        return { status: 200, body: customerOr404(req.params.customerId ?? '') }
      },
    },
    {
      method: 'GET',
      pattern: `${GENERAL}/customers/:customerId/tenants`,
      handler: (req) => {
        auth.authorize(req, [PERMISSIONS.tenants])
        const customerId = customerOr404(req.params.customerId ?? '').id
        return list(req, 'tenants', () => data.tenants.filter((t) => t.customerId === customerId), { customerId })
      },
    },
    {
      method: 'GET',
      pattern: `${GENERAL}/tenants`,
      handler: (req) => (auth.authorize(req, [PERMISSIONS.tenants]), list(req, 'tenants', () => data.tenants)),
    },
    {
      method: 'GET',
      pattern: `${GENERAL}/services`,
      handler: (req) => {
        auth.authorize(req, [PERMISSIONS.services])
        const top = intParam(req, 'top', 100, 1, 1000)
        const skip = intParam(req, 'skip', 0, 0, Number.MAX_SAFE_INTEGER)
        drift(req, 'services')
        const next = skip + top
        // EnPower-style paging: a full URL while more remain, then an empty string (not null).
        const nextLink = next < data.services.length ? `http://${req.headers.host ?? 'localhost'}${req.path}?top=${top}&skip=${next}` : ''
        return { status: 200, body: { value: data.services.slice(skip, next), nextLink } }
      },
    },
    {
      method: 'GET',
      pattern: `${UM}/users`,
      handler: (req) => (auth.authorize(req, USER_READ), list(req, 'users', () => data.users)),
    },
    {
      method: 'GET',
      pattern: `${UM}/customers/:customerId/tenants/:tenantId/users`,
      handler: (req) => {
        auth.authorize(req, USER_READ)
        const tenant = tenantOr404(req.params.customerId ?? '', req.params.tenantId ?? '')
        const scope = { customerId: tenant.customerId, tenantId: tenant.id }
        return list(req, 'users', () => data.users.filter((u) => u.tenantId === tenant.id), scope)
      },
    },
    {
      method: 'PUT',
      pattern: `${UM}/customers/:customerId/tenants/:tenantId/users/:userId/account-information`,
      handler: (req) => {
        auth.authorize(req, [PERMISSIONS.usersWrite])
        const tenant = tenantOr404(req.params.customerId ?? '', req.params.tenantId ?? '')
        const user = data.users.find((u) => u.id === req.params.userId && u.tenantId === tenant.id)
        if (!user) throw new SimHttpError(404, `User ${req.params.userId ?? ''} not found in tenant ${tenant.id}`)
        const body = parseJsonObject(req)
        const { displayName, accountEnabled } = body
        if (displayName !== undefined && (typeof displayName !== 'string' || displayName.trim() === ''))
          throw new SimHttpError(400, 'displayName must be a non-empty string')
        if (accountEnabled !== undefined && typeof accountEnabled !== 'boolean') throw new SimHttpError(400, 'accountEnabled must be a boolean')
        if (displayName === undefined && accountEnabled === undefined) throw new SimHttpError(400, 'Nothing to update: send displayName and/or accountEnabled')
        const fields: Record<string, unknown> = {}
        if (displayName !== undefined) fields.displayName = displayName
        if (accountEnabled !== undefined) fields.accountEnabled = accountEnabled
        return { status: 200, body: store.edit('users', user.id, fields) }
      },
    },
  ]
  return routes.map((r) => ({ ...r, handler: withRequestId(r.handler) }))
}
