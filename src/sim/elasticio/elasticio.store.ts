import type { SimClock } from '../common/clock.js'
import { createPrng, type Prng } from '../common/prng.js'
import { SimHttpError } from '../common/server.js'
import { ATTRIBUTE_RULES, type ElasticioResource } from './elasticio.attributes.js'

/**
 * In-memory elastic.io data as JSON:API resource objects. Ids are Mongo-style ObjectIds
 * (8 hex of creation seconds + 16 random hex), and each array is kept in id order, so the
 * API's default sort (by id) is creation order and a drift insert at the head gets an
 * id older than the current head.
 */

export type { ElasticioResource }
export const ELASTICIO_RESOURCES: readonly ElasticioResource[] = ['flows', 'lookups', 'credentials', 'users', 'organizations']

/** JSON:API `type` of each collection (singular, as the vendor spells it). */
export const RESOURCE_TYPE: Record<ElasticioResource, string> = {
  flows: 'flow',
  lookups: 'lookup',
  credentials: 'credential',
  users: 'user',
  organizations: 'organization',
}

export interface ResourceIdentifier {
  type: string
  id: string
}

export interface JsonApiItem {
  id: string
  type: string
  attributes: Record<string, unknown> & { created_at: string; updated_at: string }
  relationships: Record<string, { data: ResourceIdentifier }>
}

export interface ElasticioSeed {
  flows?: number
  lookups?: number
  credentials?: number
  users?: number
  organizations?: number
  workspaceId?: string
  seed?: number
}

export interface ElasticioStore {
  readonly data: Record<ElasticioResource, JsonApiItem[]>
  /** The workspace flows and credentials belong to (flows are listed per workspace). */
  readonly workspaceId: string
  seed(spec: ElasticioSeed): Record<ElasticioResource, number>
  get(resource: ElasticioResource, id: string): JsonApiItem | undefined
  /** Validates and merges attributes, then bumps `updated_at`. */
  update(resource: ElasticioResource, id: string, attributes: Record<string, unknown>): JsonApiItem
  /** A new item of the current user and organization, created now, with these (validated) attributes. */
  create(resource: ElasticioResource, attributes: Record<string, unknown>): JsonApiItem
  remove(resource: ElasticioResource, id: string): boolean
  /** Inserts `count` new items before the head (older ids), stamped updated now. */
  insertAtHead(resource: ElasticioResource, count: number, workspaceId?: string): void
}

const MAX_ITEMS = 2_000_000
const WORDS = ['Orders', 'Invoices', 'Contacts', 'Leads', 'Tickets', 'Shipments', 'Payments', 'Products', 'Accounts', 'Events']
const SYSTEMS = ['Salesforce', 'SAP', 'Shopify', 'HubSpot', 'Zendesk', 'Magento', 'NetSuite', 'Slack', 'Jira', 'Postgres']
const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Ken', 'Margaret', 'Linus', 'Radia', 'Donald']
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Thompson', 'Hamilton', 'Torvalds', 'Perlman', 'Knuth']
const COMMANDS = ['elasticio/email:send', 'elasticio/rest-api:httpRequestAction', 'elasticio/salesforce:upsert', 'elasticio/mapper:map']

export function createElasticioStore(clock: SimClock, defaultSeed = 1): ElasticioStore {
  const data: Record<ElasticioResource, JsonApiItem[]> = { flows: [], lookups: [], credentials: [], users: [], organizations: [] }
  let prng: Prng = createPrng(defaultSeed)
  let { workspaceId, components } = stableIds(defaultSeed)

  const ref = (type: string, id: string) => ({ data: { type, id } })
  const owner = (): Record<string, { data: ResourceIdentifier }> => {
    const rel: Record<string, { data: ResourceIdentifier }> = {}
    const user = data.users[0]
    const org = data.organizations[0]
    if (user) rel.user = ref('user', user.id)
    if (org) rel.organization = ref('organization', org.id)
    return rel
  }

  const make = (resource: ElasticioResource, createdSec: number, ws: string): JsonApiItem => {
    const created_at = new Date(createdSec * 1000).toISOString()
    const updatedMs = Math.min(clock.now(), (createdSec + prng.int(0, 30 * 86_400)) * 1000)
    const base = { created_at, updated_at: new Date(updatedMs).toISOString() }
    const id = objectId(createdSec, prng)
    const type = RESOURCE_TYPE[resource]
    const system = prng.pick(SYSTEMS)
    const word = prng.pick(WORDS)
    switch (resource) {
      case 'flows':
        return {
          id,
          type,
          attributes: {
            name: `${system} ${word} sync`,
            description: `Moves ${word.toLowerCase()} from ${system}`,
            status: prng.pick(['active', 'inactive']),
            type: prng.pick(['ordinary', 'ordinary', 'realtime']),
            graph: {
              nodes: [
                { id: 'step_1', command: 'elasticio/timer:timer', fields: { interval: prng.pick(['minute', 'hour', 'day']) } },
                { id: 'step_2', command: prng.pick(COMMANDS) },
              ],
              edges: [{ source: 'step_1', target: 'step_2' }],
            },
            ...base,
          },
          relationships: { ...owner(), workspace: ref('workspace', ws) },
        }
      case 'lookups': {
        const data = Object.fromEntries(
          Array.from({ length: prng.int(2, 5) }, (_, i) => [`${word.toLowerCase()}-${i + 1}`, prng.pick(['Open', 'In Progress', 'Done', 'Closed'])]),
        )
        return { id, type, attributes: { title: `${system} ${word} codes`, data, ...base }, relationships: owner() }
      }
      case 'credentials':
        return {
          id,
          type,
          attributes: {
            name: `${system} ${prng.pick(['primary', 'sandbox', 'reporting'])}`,
            keys: { apiKey: `secret-${prng.hex(32)}`, password: `pw-${prng.hex(16)}` },
            ...base,
          },
          relationships: {
            ...owner(),
            component: ref('component', components.length > 0 ? prng.pick(components) : objectId(createdSec, prng)),
            workspace: ref('workspace', ws),
          },
        }
      case 'users': {
        const first = prng.pick(FIRST)
        const last = prng.pick(LAST)
        return {
          id,
          type,
          attributes: { first_name: first, last_name: last, email: `${first}.${last}.${id.slice(-6)}@example.com`.toLowerCase(), ...base },
          relationships: {},
        }
      }
      case 'organizations':
        return { id, type, attributes: { name: `${prng.pick(FIRST)} ${system} Team`, ...base }, relationships: {} }
    }
  }

  const store: ElasticioStore = {
    data,
    get workspaceId() {
      return workspaceId
    },
    seed(spec) {
      const counts = ELASTICIO_RESOURCES.map((r) => [r, count(spec[r], r)] as const)
      if (counts.reduce((n, [, c]) => n + c, 0) > MAX_ITEMS) throw new SimHttpError(400, `seed would create more than ${MAX_ITEMS} items`)
      if (spec.workspaceId !== undefined && (typeof spec.workspaceId !== 'string' || spec.workspaceId === ''))
        throw new SimHttpError(400, 'workspaceId must be a non-empty string')
      const seed = spec.seed ?? defaultSeed
      prng = createPrng(seed)
      const nowSec = Math.floor(clock.now() / 1000)
      const ids = stableIds(seed)
      workspaceId = spec.workspaceId ?? ids.workspaceId
      components = ids.components
      // Owners first, so flows, lookups and credentials can point at them.
      for (const [resource, n] of [...counts].sort(([a], [b]) => ownerRank(a) - ownerRank(b))) {
        const start = nowSec - 86_400 - n * 60
        data[resource] = Array.from({ length: n }, (_, i) => make(resource, start + i * 60, workspaceId))
      }
      return Object.fromEntries(ELASTICIO_RESOURCES.map((r) => [r, data[r].length])) as Record<ElasticioResource, number>
    },
    get: (resource, id) => data[resource].find((x) => x.id === id),
    update(resource, id, attributes) {
      const item = store.get(resource, id)
      if (!item) throw new SimHttpError(404, `${RESOURCE_TYPE[resource]} ${id} not found`)
      checkAttributes(resource, attributes)
      Object.assign(item.attributes, structuredClone(attributes), { updated_at: nextStamp(clock, item.attributes.updated_at) })
      return item
    },
    create(resource, attributes) {
      checkAttributes(resource, attributes)
      const now = clock.nowIso()
      const item: JsonApiItem = {
        id: objectId(Math.floor(clock.now() / 1000), prng),
        type: RESOURCE_TYPE[resource],
        attributes: { ...structuredClone(attributes), created_at: now, updated_at: now },
        relationships: owner(),
      }
      // ids grow with creation time: the newest sorts last
      data[resource].push(item)
      return item
    },
    remove(resource, id) {
      const index = data[resource].findIndex((x) => x.id === id)
      if (index < 0) return false
      data[resource].splice(index, 1)
      return true
    },
    insertAtHead(resource, n, ws) {
      for (let i = 0; i < n; i++) {
        const head = data[resource][0]
        const createdSec = head ? parseInt(head.id.slice(0, 8), 16) - 1 : Math.floor(clock.now() / 1000)
        const item = make(resource, createdSec, ws ?? workspaceId)
        item.attributes.updated_at = clock.nowIso()
        data[resource].unshift(item)
      }
    },
  }
  return store
}

/** Throws a 400 naming the first attribute the resource does not let a client write, or a bad value. */
function checkAttributes(resource: ElasticioResource, attributes: Record<string, unknown>): void {
  const rules = ATTRIBUTE_RULES[resource]
  for (const [key, value] of Object.entries(attributes)) {
    const rule = rules[key]
    if (!rule) throw new SimHttpError(400, `attributes.${key} cannot be written on a ${RESOURCE_TYPE[resource]}`)
    const problem = rule(value)
    if (problem) throw new SimHttpError(400, `attributes.${key} ${problem}`)
  }
}

/**
 * The workspace and component ids depend on the seed only (not on the clock), so a config
 * naming `workspace_id` keeps working across restarts of the simulator.
 */
function stableIds(seed: number): { workspaceId: string; components: string[] } {
  const p = createPrng(seed ^ 0x5eed)
  const id = (): string => `5f3c0000${p.hex(16)}`
  return { workspaceId: id(), components: [id(), id(), id()] }
}

function objectId(seconds: number, prng: Prng): string {
  return Math.max(0, seconds).toString(16).padStart(8, '0').slice(-8) + prng.hex(16)
}

function ownerRank(r: ElasticioResource): number {
  return r === 'users' || r === 'organizations' ? 0 : 1
}

/** A new `updated_at`, strictly later than the old one even within one millisecond. */
function nextStamp(clock: SimClock, previous: string): string {
  const now = clock.now()
  const prev = Date.parse(previous)
  return new Date(Number.isFinite(prev) && prev >= now ? prev + 1 : now).toISOString()
}

function count(value: unknown, name: string): number {
  if (value === undefined) return 0
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new SimHttpError(400, `${name} must be a non-negative integer`)
  return value
}
