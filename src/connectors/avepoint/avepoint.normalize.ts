import type { RemoteRecord } from '../../engine/types.js'
import { BadResponseError } from '../../http/errors.js'
import { firstStr, isObject, otherFields, requireId, str } from '../shared/tolerant.js'

/** AvePoint Elements items (customers, tenants, services, users) to the common record shape. */

/** Which property names an item by resource; the first present one wins. */
export const TITLE_KEYS = ['displayName', 'customerName', 'tenantName', 'serviceName', 'userPrincipalName'] as const

export function normalizeAvepoint(item: unknown, what: string): RemoteRecord {
  if (!isObject(item)) throw new BadResponseError(`${what}: expected each item to be an object, got ${Array.isArray(item) ? 'array' : typeof item}`)
  const remoteId = requireId(item, ['id'], what)
  const titleKey = TITLE_KEYS.find((k) => firstStr(item, [k]) !== null)
  const ownStatus = str(item.status)
  // users have no status, only an enabled flag
  const enabled = typeof item.accountEnabled === 'boolean' ? item.accountEnabled : null
  const status = ownStatus ?? (enabled === null ? null : enabled ? 'enabled' : 'disabled')
  const mapped = [
    'id',
    'lastModifiedTime',
    'createdTime',
    ...(titleKey ? [titleKey] : []),
    ...(ownStatus !== null ? ['status'] : enabled !== null ? ['accountEnabled'] : []),
  ]
  return {
    remoteId,
    title: titleKey ? str(item[titleKey]) : null,
    status,
    remoteCreatedAt: str(item.createdTime),
    remoteUpdatedAt: str(item.lastModifiedTime),
    fields: otherFields(item, mapped),
    document: item,
  }
}
