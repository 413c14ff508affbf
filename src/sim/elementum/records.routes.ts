import { SimHttpError, type SimRoute } from '../common/index.js'
import { apiRoute, fieldsOf, jsonObject, namespaceOf, recordOf, type ElementumContext } from './context.js'
import { childPage, encodeCursor, pageArgs, pageSorted } from './paging.js'
import { compileRsql, RsqlSyntaxError, type RsqlPredicate } from '../../engine/rsql.js'
import { RELATED_TYPE, SYSTEM_FIELDS, type ElementumRelation, type FieldPatch, type Namespace } from './store.js'

/** Search, create, get and update records, and their related items. */

/** The fields this simulator stores as dates; any other value there makes a filter a 400, as in Elementum. */
const DATE_FIELDS = ['Created on', 'Updated on', 'Due Date']

function compileFilter(filter: string): RsqlPredicate {
  try {
    return compileRsql(filter, { dateFields: DATE_FIELDS })
  } catch (err) {
    if (err instanceof RsqlSyntaxError) throw new SimHttpError(400, err.message)
    throw err
  }
}

/** Fields every record type of the simulator defines, besides the system ones. */
const STANDARD_FIELDS: ReadonlySet<string> = new Set(['Title', 'Description', 'Status', 'Priority', 'Due Date', 'Assignee'])

export function recordRoutes(ctx: ElementumContext): SimRoute[] {
  const { store } = ctx
  // A record type defines the standard fields and those its records carry (a human's or a seed's
  // fields define them, as Admin would); the set is rebuilt only when the data changed.
  const defined = new WeakMap<Namespace, { version: number; fields: Set<string> }>()
  const refuseUndefined = (ns: Namespace, patch: FieldPatch): void => {
    const unknown = Object.keys(patch).filter((k) => !SYSTEM_FIELDS.has(k) && !STANDARD_FIELDS.has(k))
    if (unknown.length === 0) return
    let hit = defined.get(ns)
    if (!hit || hit.version !== ns.version) {
      const fields = new Set<string>()
      for (const record of ns.bySeq.values()) for (const k of Object.keys(record.data)) fields.add(k)
      hit = { version: ns.version, fields }
      defined.set(ns, hit)
    }
    const fields = hit.fields
    const missing = unknown.find((k) => !fields.has(k))
    if (missing !== undefined) throw new SimHttpError(400, `Unknown field "${missing}": ${ns.recordType}/${ns.alias} does not define it`)
  }
  // The filtered total needs a scan; remember the last one per namespace until the data changes.
  const totals = new WeakMap<Namespace, { version: number; filter: string; total: number }>()
  const filteredTotal = (ns: Namespace, filter: string, predicate: RsqlPredicate): number => {
    const hit = totals.get(ns)
    if (hit && hit.version === ns.version && hit.filter === filter) return hit.total
    let total = 0
    for (const record of ns.bySeq.values()) if (predicate(record.data)) total++
    totals.set(ns, { version: ns.version, filter, total })
    return total
  }

  return [
    apiRoute(ctx, 'GET', '/:recordType/:alias', (req) => {
      const ns = namespaceOf(store, req)
      ctx.drift(req.path, ns)
      const args = pageArgs(req)
      const filter = (req.query.get('filter') ?? '').trim()
      const predicate = filter === '' ? undefined : compileFilter(filter)
      const dataOf = (seq: number): Record<string, string> => ns.bySeq.get(seq)?.data ?? {}
      const page = pageSorted(ns.order, (s) => s, args, predicate && ((seq) => predicate(dataOf(seq))))
      return {
        status: 200,
        body: {
          paging: page.paging,
          total: predicate ? filteredTotal(ns, filter, predicate) : ns.order.length,
          items: page.items.map((seq) => ({ cursor: encodeCursor(seq), data: dataOf(seq) })),
        },
      }
    }),
    apiRoute(ctx, 'POST', '/:recordType/:alias', (req) => {
      const ns = namespaceOf(store, req)
      const fields = fieldsOf(jsonObject(req))
      refuseUndefined(ns, fields)
      return { status: 201, body: store.create(ns, fields).data }
    }),
    apiRoute(ctx, 'GET', '/:recordType/:alias/:id', (req) => ({ status: 200, body: recordOf(store, req).data })),
    apiRoute(ctx, 'PUT', '/:recordType/:alias/:id', (req) => {
      const record = recordOf(store, req)
      const fields = fieldsOf(jsonObject(req))
      refuseUndefined(namespaceOf(store, req), fields)
      store.update(record, fields)
      return { status: 200, body: record.data }
    }),

    apiRoute(ctx, 'GET', '/:recordType/:alias/:id/related-items', (req) => childPage(req, recordOf(store, req).related, relatedItem)),
    apiRoute(ctx, 'POST', '/:recordType/:alias/:id/related-items', (req) => {
      const record = recordOf(store, req)
      const body = jsonObject(req)
      if (typeof body.id !== 'string' || body.id === '') throw new SimHttpError(400, 'id is required')
      if (body.alias !== undefined && typeof body.alias !== 'string') throw new SimHttpError(400, 'alias must be a string')
      return { status: 201, body: relatedItem(store.relate(record, { id: body.id, alias: body.alias })) }
    }),
    apiRoute(ctx, 'DELETE', '/:recordType/:alias/:id/related-items/:relationId', (req) => {
      const record = recordOf(store, req)
      // The spec names this `{itemId}`: accept the relation id or the related record's id.
      const key = req.params.relationId ?? ''
      if (!store.unrelate(record, key)) throw new SimHttpError(404, `Related item "${key}" not found`)
      return { status: 204 }
    }),
  ]
}

function relatedItem(r: ElementumRelation): Record<string, string> {
  return { id: r.id, type: RELATED_TYPE[r.recordType], alias: r.alias, cursor: encodeCursor(r.seq), relationId: r.relationId }
}
