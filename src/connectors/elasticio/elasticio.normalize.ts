import type { RemoteRecord } from '../../engine/types.js'
import { BadResponseError } from '../../http/errors.js'
import { isObject, otherFields, REDACTED, requireId, str, type Json } from '../shared/tolerant.js'

/**
 * elastic.io JSON:API resource objects to the common record shape. Credential `keys` are
 * secrets: they are replaced by the redaction marker here, before a record exists, so no
 * later step (mirror, history, logs, errors) can see them.
 */

/** Every leaf of a value replaced by the marker; the key names stay, so analysts see which keys exist. */
export function redactLeaves(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactLeaves)
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactLeaves(v)]))
  return REDACTED
}

/** A copy of the item whose `attributes.keys` hold no secret, for credentials (by resource or by type). */
export function redactCredential(item: unknown, isCredential: boolean): unknown {
  if (!isObject(item) || !isObject(item.attributes)) return item
  if (!isCredential && item.type !== 'credential') return item
  if (!('keys' in item.attributes)) return item
  const keys = item.attributes.keys
  return { ...item, attributes: { ...item.attributes, keys: isObject(keys) ? redactLeaves(keys) : REDACTED } }
}

const KNOWN_ATTRIBUTES = ['name', 'title', 'status', 'created_at', 'updated_at']

/** `{user: {type, id}}` from JSON:API relationships, dropping the links the API adds. */
function relationshipIds(rel: unknown): Json | undefined {
  if (!isObject(rel)) return undefined
  const out: Json = {}
  for (const [k, v] of Object.entries(rel)) out[k] = isObject(v) && 'data' in v ? v.data : v
  return Object.keys(out).length > 0 ? out : undefined
}

function titleOf(attrs: Json): string | null {
  // a lookup table has a title instead of a name
  const name = str(attrs.name) ?? str(attrs.title)
  if (name) return name
  const full = [str(attrs.first_name), str(attrs.last_name)].filter((s): s is string => !!s).join(' ')
  return full || null
}

/** `item` must already be redacted (see `redactCredential`). */
export function normalizeElasticio(item: unknown, what: string): RemoteRecord {
  if (!isObject(item))
    throw new BadResponseError(`${what}: expected each item to be a JSON:API resource object, got ${Array.isArray(item) ? 'array' : typeof item}`)
  const remoteId = requireId(item, ['id'], what)
  const attrs = item.attributes ?? {}
  if (!isObject(attrs)) throw new BadResponseError(`${what}: item ${remoteId} has attributes of type ${typeof attrs}, expected an object`)
  const relationships = relationshipIds(item.relationships)
  return {
    remoteId,
    title: titleOf(attrs),
    status: str(attrs.status),
    remoteCreatedAt: str(attrs.created_at),
    remoteUpdatedAt: str(attrs.updated_at),
    fields: { ...otherFields(attrs, KNOWN_ATTRIBUTES), ...(relationships ? { relationships } : {}) },
    document: item,
  }
}
