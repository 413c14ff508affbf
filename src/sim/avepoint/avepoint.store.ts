import type { SimClock } from '../common/clock.js'
import { createPrng, prngUuid, type Prng } from '../common/prng.js'
import { SimHttpError } from '../common/server.js'

/**
 * In-memory AvePoint Elements data: customers own tenants and services; users live in a
 * tenant. Arrays keep list order (newest drift inserts at the head), which is what the
 * page-number paging of the real API exposes to a poller.
 */

export type AvepointResource = 'customers' | 'tenants' | 'services' | 'users'
export const AVEPOINT_RESOURCES: readonly AvepointResource[] = ['customers', 'tenants', 'services', 'users']

export interface Customer {
  id: string
  customerName: string
  customerType: string
  status: string
  createdTime: string
  lastModifiedTime: string
}

export interface Tenant {
  id: string
  /** The Microsoft 365 directory id; the sim's URLs accept either this or `id`. */
  tenantId: string
  tenantName: string
  customerId: string
  createdTime: string
  lastModifiedTime: string
}

export interface Service {
  id: string
  serviceName: string
  status: string
  customerId: string
  lastModifiedTime: string
}

export interface User {
  id: string
  userPrincipalName: string
  displayName: string
  accountEnabled: boolean
  /** The owning tenant's `id`. */
  tenantId: string
  customerId: string
  lastModifiedTime: string
}

export interface AvepointData {
  customers: Customer[]
  tenants: Tenant[]
  services: Service[]
  users: User[]
}

export interface AvepointSeed {
  customers?: number
  tenantsPerCustomer?: number
  usersPerTenant?: number
  services?: number
  seed?: number
}

/** Narrows a list request: tenants of a customer, users of a tenant. */
export interface AvepointScope {
  customerId?: string
  tenantId?: string
}

export interface AvepointStore {
  readonly data: AvepointData
  seed(spec: AvepointSeed): Record<AvepointResource, number>
  get(resource: AvepointResource, id: string): Customer | Tenant | Service | User | undefined
  /** Applies `fields` as a human edit would and bumps `lastModifiedTime`. */
  edit(resource: AvepointResource, id: string, fields: Record<string, unknown>): Customer | Tenant | Service | User
  /** Removes an item and what it owns; false when absent. */
  remove(resource: AvepointResource, id: string): boolean
  /** Paging drift: delete then insert items at the head of the scoped list. */
  drift(resource: AvepointResource, scope: AvepointScope, change: { insert: number; delete: number }): void
}

const MAX_ITEMS = 2_000_000
const STEMS = ['Contoso', 'Fabrikam', 'Northwind', 'Tailspin', 'Woodgrove', 'Litware', 'Proseware', 'Adatum', 'Relecloud', 'Wingtip']
const FORMS = ['Ltd', 'Inc', 'GmbH', 'LLC', 'Group', 'AG']
const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Ken', 'Margaret', 'Linus', 'Radia', 'Donald']
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Thompson', 'Hamilton', 'Torvalds', 'Perlman', 'Knuth']
const SERVICES = [
  'Cloud Backup for Microsoft 365',
  'Cloud Backup for Salesforce',
  'Cloud Governance',
  'Policies & Insights',
  'Opus',
  'Confide',
  'EnPower',
  'Fly',
]

export function createAvepointStore(clock: SimClock, defaultSeed = 1): AvepointStore {
  const data: AvepointData = { customers: [], tenants: [], services: [], users: [] }
  let prng: Prng = createPrng(defaultSeed)
  let serial = 0

  const pastIso = (maxDaysAgo: number): string => new Date(clock.now() - prng.int(1, maxDaysAgo * 86_400) * 1000).toISOString()

  const newCustomer = (): Customer => {
    const createdTime = pastIso(720)
    return {
      id: prngUuid(prng),
      customerName: `${prng.pick(STEMS)} ${prng.pick(FORMS)}`,
      customerType: prng.pick(['Standard', 'Trial', 'NFR']),
      status: prng.pick(['Active', 'Active', 'Active', 'Inactive', 'Expired']),
      createdTime,
      lastModifiedTime: maxIso(createdTime, pastIso(60)),
    }
  }
  const newTenant = (customerId: string): Tenant => {
    serial += 1
    const createdTime = pastIso(360)
    return {
      id: prngUuid(prng),
      tenantId: prngUuid(prng),
      tenantName: `${prng.pick(STEMS).toLowerCase()}${serial}.onmicrosoft.com`,
      customerId,
      createdTime,
      lastModifiedTime: maxIso(createdTime, pastIso(60)),
    }
  }
  const newService = (customerId: string): Service => ({
    id: prngUuid(prng),
    serviceName: prng.pick(SERVICES),
    status: prng.pick(['Active', 'Active', 'Trial', 'Expired']),
    customerId,
    lastModifiedTime: pastIso(60),
  })
  const newUser = (tenant: Tenant): User => {
    serial += 1
    const first = prng.pick(FIRST)
    const last = prng.pick(LAST)
    return {
      id: prngUuid(prng),
      userPrincipalName: `${first}.${last}${serial}@${tenant.tenantName}`.toLowerCase(),
      displayName: `${first} ${last}`,
      accountEnabled: prng.next() > 0.1,
      tenantId: tenant.id,
      customerId: tenant.customerId,
      lastModifiedTime: pastIso(60),
    }
  }

  const inScope =
    (resource: AvepointResource, scope: AvepointScope) =>
    (item: { customerId?: string; tenantId?: string }): boolean => {
      if (resource === 'customers') return true
      if (scope.customerId !== undefined && item.customerId !== scope.customerId) return false
      if (resource === 'users' && scope.tenantId !== undefined && item.tenantId !== scope.tenantId) return false
      return true
    }

  const store: AvepointStore = {
    data,
    seed(spec) {
      const customers = count(spec.customers, 'customers')
      const perCustomer = count(spec.tenantsPerCustomer, 'tenantsPerCustomer')
      const perTenant = count(spec.usersPerTenant, 'usersPerTenant')
      const services = count(spec.services, 'services')
      if (customers * perCustomer * Math.max(1, perTenant) + customers + services > MAX_ITEMS)
        throw new SimHttpError(400, `seed would create more than ${MAX_ITEMS} items`)
      prng = createPrng(spec.seed ?? defaultSeed)
      serial = 0
      data.customers = []
      data.tenants = []
      data.services = []
      data.users = []
      for (let c = 0; c < customers; c++) {
        const customer = newCustomer()
        data.customers.push(customer)
        for (let t = 0; t < perCustomer; t++) {
          const tenant = newTenant(customer.id)
          data.tenants.push(tenant)
          for (let u = 0; u < perTenant; u++) data.users.push(newUser(tenant))
        }
      }
      for (let s = 0; s < services; s++) {
        const owner = data.customers.length > 0 ? prng.pick(data.customers).id : prngUuid(prng)
        data.services.push(newService(owner))
      }
      return { customers: data.customers.length, tenants: data.tenants.length, services: data.services.length, users: data.users.length }
    },
    get: (resource, id) => (data[resource] as { id: string }[]).find((x) => x.id === id) as Customer | Tenant | Service | User | undefined,
    edit(resource, id, fields) {
      const item = store.get(resource, id) as unknown as Record<string, unknown> | undefined
      if (!item) throw new SimHttpError(404, `${resource} ${id} not found`)
      for (const [key, value] of Object.entries(fields)) {
        if (key === 'id' || key === 'lastModifiedTime') throw new SimHttpError(400, `${key} cannot be edited`)
        if (!(key in item)) throw new SimHttpError(400, `${resource} has no field ${key}`)
        if (typeof value !== typeof item[key]) throw new SimHttpError(400, `${key} must be a ${typeof item[key]}`)
      }
      // Strictly later than before, even for two edits within one millisecond.
      const previous = Date.parse(String(item.lastModifiedTime))
      const stamp = Math.max(clock.now(), Number.isFinite(previous) ? previous + 1 : 0)
      Object.assign(item, fields, { lastModifiedTime: new Date(stamp).toISOString() })
      return item as unknown as Customer | Tenant | Service | User
    },
    remove(resource, id) {
      const keep = <T extends { id: string }>(items: T[], drop: (x: T) => boolean): T[] => items.filter((x) => !drop(x))
      const items = data[resource] as { id: string }[]
      const index = items.findIndex((x) => x.id === id)
      if (index < 0) return false
      items.splice(index, 1)
      if (resource === 'customers') {
        data.tenants = keep(data.tenants, (t) => t.customerId === id)
        data.services = keep(data.services, (s) => s.customerId === id)
        data.users = keep(data.users, (u) => u.customerId === id)
      }
      if (resource === 'tenants') data.users = keep(data.users, (u) => u.tenantId === id)
      return true
    },
    drift(resource, scope, change) {
      const match = inScope(resource, scope)
      const doomed = (data[resource] as { id: string; customerId?: string; tenantId?: string }[]).filter(match).slice(0, change.delete)
      for (const item of doomed) store.remove(resource, item.id)
      // Items created while a client pages are new: they carry the current time.
      const fresh = <T extends { lastModifiedTime: string }>(item: T): T => ({ ...item, lastModifiedTime: clock.nowIso() })
      for (let i = 0; i < change.insert; i++) {
        const customerId = scope.customerId ?? data.customers[0]?.id
        if (resource === 'customers') data.customers.unshift(fresh(newCustomer()))
        else if (resource === 'services' && customerId) data.services.unshift(fresh(newService(customerId)))
        else if (resource === 'tenants' && customerId) data.tenants.unshift(fresh(newTenant(customerId)))
        else if (resource === 'users') {
          const tenant = data.tenants.find((t) => (scope.tenantId ?? t.id) === t.id && (scope.customerId ?? t.customerId) === t.customerId)
          if (tenant) data.users.unshift(fresh(newUser(tenant)))
        }
      }
    },
  }
  return store
}

function count(value: unknown, name: string): number {
  if (value === undefined) return 0
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new SimHttpError(400, `${name} must be a non-negative integer`)
  return value
}

function maxIso(a: string, b: string): string {
  return a > b ? a : b
}
