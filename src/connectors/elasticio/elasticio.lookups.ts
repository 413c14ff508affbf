import { SyncError } from '../../engine/errors.js'
import type { LookupReader } from '../../engine/ports.js'
import { BadResponseError } from '../../http/errors.js'
import type { RawPage } from '../shared/paging.js'
import { isObject } from '../shared/tolerant.js'

/**
 * elastic.io lookup tables as value maps (DESIGN.md §1): `attributes: {title, data: {key: value}}`.
 * A table is named by its id or its title; the list is read for it (one request per 100
 * tables), so an edit made in elastic.io is seen at the next read, never from a cache.
 */

export class LookupNotFoundError extends SyncError {
  override readonly code: 'lookup_not_found' | 'lookup_ambiguous'
  constructor(message: string, code: 'lookup_not_found' | 'lookup_ambiguous') {
    super(message)
    this.code = code
  }
}

/** `pages` lists the lookups resource (raw JSON:API items). */
export function createLookupReader(connection: string, pages: (signal: AbortSignal) => AsyncIterable<RawPage>): LookupReader {
  return {
    async read(table, signal) {
      const byTitle: Record<string, unknown>[] = []
      for await (const page of pages(signal)) {
        for (const item of page.items) {
          if (!isObject(item)) continue
          const attributes = isObject(item.attributes) ? item.attributes : {}
          // an id names one table, whatever the titles say
          if (item.id === table) return dataOf(attributes, table, connection)
          if (attributes.title === table) byTitle.push(attributes)
        }
      }
      const [only, ...more] = byTitle
      if (!only) throw new LookupNotFoundError(`connection ${connection} has no lookup table with id or title "${table}"`, 'lookup_not_found')
      if (more.length > 0)
        throw new LookupNotFoundError(
          `connection ${connection} has ${byTitle.length} lookup tables titled "${table}": name the table by its id`,
          'lookup_ambiguous',
        )
      return dataOf(only, table, connection)
    },
  }
}

/** The table's `data`, each value as text (numbers and booleans read as the text they print as). */
function dataOf(attributes: Record<string, unknown>, table: string, connection: string): Record<string, string> {
  const data = attributes.data
  if (!isObject(data)) throw new BadResponseError(`connection ${connection}: lookup table "${table}" has no data object`)
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(data)) {
    if (typeof value === 'string') out[key] = value
    else if (typeof value === 'number' || typeof value === 'boolean') out[key] = String(value)
    else
      throw new BadResponseError(
        `connection ${connection}: lookup table "${table}" maps "${key}" to ${value === null ? 'null' : typeof value}, not a text value`,
      )
  }
  return out
}
