import type { RestStream } from './rest.config.js'
import type { FieldCatalog, FieldInfo } from '../../engine/catalog.js'
import type { Snapshot } from '../../engine/record.js'
import { createReadOnlyCatalog, fieldValue } from '../shared/fields.js'
import { getPath } from '../shared/paging.js'

/**
 * Fields of a generic JSON API, read-only (a `rest` stream is mirrored, never written). The
 * normalizer (rest.normalize.ts) moves `title` (else `name`) to `title`, `status` to
 * `status`, the stream's `updatedField` to `remote_updated_at` and its `createdByField` and
 * `updatedByField` to `created_by` and `updated_by`; every other property stays
 * in `fields`, where a dotted name (`owner.email`) reads a nested value.
 */

export interface RestFieldsDeps {
  streams: Readonly<Record<string, RestStream>>
}

export function createRestFieldCatalog(deps: RestFieldsDeps): FieldCatalog {
  const fieldsNamed = (pick: (s: RestStream) => string | undefined) => new Set(Object.values(deps.streams).flatMap((s) => pick(s) ?? []))
  const updatedFields = fieldsNamed((s) => s.updatedField)
  const createdByFields = fieldsNamed((s) => s.createdByField)
  const updatedByFields = fieldsNamed((s) => s.updatedByField)

  function field(stream: string, name: string): FieldInfo {
    const s = deps.streams[stream]
    if (s?.updatedField === name) return { name, kind: 'datetime', writable: false }
    if (name === 'title' || name === 'name' || s?.idField === name) return { name, kind: 'text', writable: false }
    return { name, kind: name === 'status' ? 'status' : 'json', writable: false }
  }

  function read(s: Snapshot, name: string): unknown {
    const kept = fieldValue(s, name) ?? getPath(s.fields, name)
    if (kept !== undefined) return kept
    if (name === 'title' || name === 'name') return s.title
    if (name === 'status') return s.status
    if (updatedFields.has(name)) return s.remote_updated_at
    if (createdByFields.has(name)) return s.created_by ?? null
    if (updatedByFields.has(name)) return s.updated_by ?? null
    return null
  }

  return createReadOnlyCatalog('rest', { field, read })
}
