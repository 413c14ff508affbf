import { SyncError } from './errors.js'
import type { LookupReader } from './ports.js'
import type { MappedField, MappingSpec } from './write.types.js'

/**
 * Value maps kept outside the config (DESIGN.md §3): a mapped field's `valuesFrom` names a
 * lookup table of a connection (elastic.io), whose key → value object is the field's
 * left → right map. Reconcile resolves them once per run of a mapping, so an edit of the
 * table takes effect at the next reconcile; the right → left direction reads the map
 * backwards, so a two-way field's table must be one-to-one.
 */

/** A lookup table that cannot serve as a value map: missing, ambiguous, or not one-to-one for a two-way field. */
export class ValueMapError extends SyncError {
  override readonly code: string
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/** The connection's lookup tables; undefined when its kind has none. */
export type LookupSource = (connection: string) => LookupReader | undefined

/** `mapping` with every `valuesFrom` read into `values`; the same table is read once. Throws ValueMapError naming the mapping and field. */
export async function resolveValueMaps(mapping: MappingSpec, lookups: LookupSource | undefined, signal: AbortSignal): Promise<MappingSpec> {
  if (!mapping.fields.some((f) => f.valuesFrom)) return mapping
  const tables = new Map<string, Promise<Readonly<Record<string, string>>>>()
  const fields = await Promise.all(
    mapping.fields.map(async (f, i): Promise<MappedField> => {
      const from = f.valuesFrom
      if (!from) return f
      const where = `mapping ${mapping.id} fields[${i}].valuesFrom: lookup table "${from.lookup}" of connection ${from.connection}`
      const reader = lookups?.(from.connection)
      if (!reader) throw new ValueMapError(`${where}: the connection has no lookup tables`, 'lookup_unsupported')
      const key = `${from.connection}\u0000${from.lookup}`
      let table = tables.get(key)
      if (!table) tables.set(key, (table = reader.read(from.lookup, signal)))
      let values: Readonly<Record<string, string>>
      try {
        values = await table
      } catch (err) {
        if (err instanceof SyncError && (err.code === 'lookup_not_found' || err.code === 'lookup_ambiguous'))
          throw new ValueMapError(`${where}: ${err.message}`, err.code, { cause: err })
        throw err
      }
      if (f.direction !== 'left-to-right') oneToOne(values, where)
      return { ...f, values }
    }),
  )
  return { ...mapping, fields }
}

function oneToOne(values: Readonly<Record<string, string>>, where: string): void {
  const leftOf = new Map<string, string>()
  for (const [left, right] of Object.entries(values)) {
    const other = leftOf.get(right)
    if (other !== undefined)
      throw new ValueMapError(
        `${where}: "${other}" and "${left}" both map to "${right}", so a right-to-left value cannot be mapped back; make the table one-to-one or set direction: left-to-right`,
        'value_map_invalid',
      )
    leftOf.set(right, left)
  }
}
