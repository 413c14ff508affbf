import type { RestStream } from './rest.config.js'
import { epochTimestamp } from '../../engine/record.js'
import type { RemoteRecord } from '../../engine/types.js'
import { BadResponseError } from '../../http/errors.js'
import { getPath } from '../shared/paging.js'
import { extractList, firstStr, isObject, otherFields, personName, str } from '../shared/tolerant.js'

/** Declarative reading of any JSON list: where the items are, which field is the id. */

/** Envelopes tried when no `itemsPath` is configured and the body is not itself a list. */
const ENVELOPES = ['items', 'data', 'results', 'records', 'value']

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array'
  if (isObject(v)) return `an object with keys ${Object.keys(v).slice(0, 8).join(', ') || '(none)'}`
  return v === undefined ? 'nothing' : typeof v
}

export function itemsOf(body: unknown, s: RestStream, what: string): unknown[] {
  if (s.itemsPath === undefined) return extractList(body, ENVELOPES, what)
  const items = getPath(body, s.itemsPath)
  if (Array.isArray(items)) return items
  // an empty collection is sometimes sent as null or left out
  if (items === null || (items === undefined && isObject(body) && Object.keys(body).length === 0)) return []
  throw new BadResponseError(`${what}: expected a list at itemsPath "${s.itemsPath}", found ${describe(items)} (the body is ${describe(body)})`)
}

/** A timestamp as ISO text: strings as sent, numbers as epoch seconds or milliseconds (null outside years 1–9999). */
function timestamp(v: unknown): string | null {
  if (typeof v === 'number') return epochTimestamp(v)
  return str(v)
}

export function normalizeRest(item: unknown, s: RestStream, what: string): RemoteRecord {
  if (!isObject(item)) throw new BadResponseError(`${what}: expected each item to be an object, got ${describe(item)}`)
  const remoteId = str(getPath(item, s.idField))
  if (remoteId === null || remoteId === '')
    throw new BadResponseError(`${what}: item without an id at "${s.idField}" (item keys: ${Object.keys(item).slice(0, 8).join(', ')})`)
  const title = firstStr(item, ['title', 'name'])
  const titleKey = title === null ? null : str(item.title) ? 'title' : 'name'
  // fields mapped to columns are not repeated among the other fields
  const people = [s.createdByField, s.updatedByField].filter((f): f is string => f !== undefined)
  const mapped = [s.idField, ...(titleKey ? [titleKey] : []), ...(s.updatedField ? [s.updatedField] : []), ...people]
  return {
    remoteId,
    title,
    status: str(item.status),
    ...(s.updatedField ? { remoteUpdatedAt: timestamp(getPath(item, s.updatedField)) } : {}),
    ...(s.createdByField ? { createdBy: personName(getPath(item, s.createdByField)) } : {}),
    ...(s.updatedByField ? { updatedBy: personName(getPath(item, s.updatedByField)) } : {}),
    fields: otherFields(item, [...mapped, ...(str(item.status) !== null ? ['status'] : [])]),
    document: item,
  }
}
