import { isJsonObject } from '../common/server.js'

/** The resources the simulator serves (the store re-exports this). */
export type ElasticioResource = 'flows' | 'lookups' | 'credentials' | 'users' | 'organizations'

/**
 * Writable attributes per resource and how each is checked; a rule returns what is wrong
 * (completing "attributes.<name> ...") or undefined. `created_at`/`updated_at` are server-owned.
 * A lookup table is exactly `{title, data}` (vendor-docs/elasticio-api-v2.txt), both required
 * on create and update.
 */
export type AttributeRule = (value: unknown) => string | undefined

const text: AttributeRule = (v) => (typeof v === 'string' ? undefined : 'must be a string')
const name: AttributeRule = (v) => (typeof v === 'string' && v.trim() !== '' ? undefined : 'must be a non-empty string')
const oneOf =
  (...values: string[]): AttributeRule =>
  (v) =>
    typeof v === 'string' && values.includes(v) ? undefined : `must be one of ${values.join(', ')}`

/** A lookup table's `data`: a flat object of string keys to string values (the docs' `{key: value}`). */
export const lookupDataRule: AttributeRule = (v) =>
  isJsonObject(v) && Object.values(v).every((x) => typeof x === 'string') ? undefined : 'must be an object of string keys to string values'

const graph: AttributeRule = (v) => (isJsonObject(v) && Array.isArray(v.nodes) && Array.isArray(v.edges) ? undefined : 'must be {nodes: [], edges: []}')
const keys: AttributeRule = (v) => (isJsonObject(v) ? undefined : 'must be an object')

export const ATTRIBUTE_RULES: Record<ElasticioResource, Record<string, AttributeRule>> = {
  flows: { name, description: text, status: oneOf('active', 'inactive'), type: oneOf('ordinary', 'realtime', 'long_running'), graph },
  lookups: { title: name, data: lookupDataRule },
  credentials: { name, keys },
  users: { first_name: name, last_name: name, email: (v) => (typeof v === 'string' && /^[^@\s]+@[^@\s]+$/.test(v) ? undefined : 'must be an email address') },
  organizations: { name },
}
