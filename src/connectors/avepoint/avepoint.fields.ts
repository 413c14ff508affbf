import type { FieldCatalog, FieldInfo, FieldKind } from '../../engine/catalog.js'
import type { Snapshot } from '../../engine/record.js'
import { createReadOnlyCatalog, fieldValue } from '../shared/fields.js'
import { TITLE_KEYS } from './avepoint.normalize.js'

/**
 * AvePoint Elements item properties, read-only (elsync never writes to AvePoint). The
 * normalizer (avepoint.normalize.ts) moves the first present title property to `title`, a
 * string `status` (else a user's `accountEnabled`, as enabled|disabled) to `status`, and
 * `createdTime`/`lastModifiedTime` to the timestamp columns; the rest stay in `fields`.
 */

const KINDS: Readonly<Record<string, FieldKind>> = {
  id: 'text',
  customerName: 'text',
  customerType: 'text',
  tenantName: 'text',
  tenantId: 'text',
  customerId: 'text',
  serviceName: 'text',
  userPrincipalName: 'text',
  displayName: 'text',
  status: 'status',
  accountEnabled: 'boolean',
  createdTime: 'datetime',
  lastModifiedTime: 'datetime',
}

function read(s: Snapshot, name: string): unknown {
  const kept = fieldValue(s, name)
  if (kept !== undefined) return kept
  // a title property not kept in `fields` is the one the title came from (or absent from the item)
  if ((TITLE_KEYS as readonly string[]).includes(name)) return s.title
  switch (name) {
    case 'status':
      return s.status
    case 'accountEnabled':
      return s.status === 'enabled' ? true : s.status === 'disabled' ? false : null
    case 'createdTime':
      return s.remote_created_at
    case 'lastModifiedTime':
      return s.remote_updated_at
    default:
      return null
  }
}

export function createAvepointFieldCatalog(): FieldCatalog {
  // any property of an item may be named; unknown ones are taken as JSON values
  const field = (_stream: string, name: string): FieldInfo => ({ name, kind: KINDS[name] ?? 'json', writable: false })
  return createReadOnlyCatalog('avepoint', { field, read })
}
