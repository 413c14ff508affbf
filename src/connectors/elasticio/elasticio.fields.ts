import type { FieldCatalog, FieldInfo, FieldKind } from '../../engine/catalog.js'
import { createReadOnlyCatalog, readSource, type Columns } from '../shared/fields.js'

/**
 * elastic.io resource attributes, read-only here (a lookup table's `data` is read as a value
 * map, never written by a push). The normalizer (elasticio.normalize.ts) moves `name` (a
 * lookup table's `title`, a user's `first_name last_name`) to `title`, `status` and the timestamps
 * to columns; other attributes and `relationships` stay in `fields`. Credential `keys` hold
 * the redaction marker, never a secret.
 */

const KINDS: Readonly<Record<string, FieldKind>> = {
  id: 'text',
  name: 'text',
  title: 'text',
  description: 'longtext',
  status: 'status',
  type: 'enum',
  first_name: 'text',
  last_name: 'text',
  email: 'text',
  created_at: 'datetime',
  updated_at: 'datetime',
}

const COLUMNS: Columns = {
  name: (s) => s.title,
  title: (s) => s.title,
  status: (s) => s.status,
  created_at: (s) => s.remote_created_at,
  updated_at: (s) => s.remote_updated_at,
}

export function createElasticioFieldCatalog(): FieldCatalog {
  const field = (_stream: string, name: string): FieldInfo => ({ name, kind: KINDS[name] ?? 'json', writable: false })
  return createReadOnlyCatalog('elasticio', { field, read: (s, name) => readSource(COLUMNS, s, name) })
}
