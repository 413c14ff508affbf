import { isJsonObject, parseJsonObject, SimHttpError, type SimHandler, type SimRequest, type SimRoute } from '../common/index.js'
import type { ElementumAuth } from './auth.js'
import { isRecordType, type ElementumRecord, type ElementumStore, type FieldPatch, type Namespace } from './store.js'

/** What the route files share: the store, auth, limits, and hooks into the running server. */
export interface ElementumContext {
  store: ElementumStore
  auth: ElementumAuth
  maxAttachmentBytes: number
  processingMs: number
  /** Applies an armed `drift` fault for this path before a search. */
  drift(path: string, ns: Namespace): void
}

/** A `/v1` route that requires a valid bearer token, and for a write, the client's write permission on the record type. */
export function apiRoute(ctx: ElementumContext, method: string, pattern: string, handler: SimHandler): SimRoute {
  return {
    method,
    pattern: `/v1${pattern}`,
    handler: (req) => {
      ctx.auth.verify(req)
      if (method !== 'GET') ctx.auth.verifyWrite(req.params.recordType ?? '', req.params.alias ?? '')
      return handler(req)
    },
  }
}

export function namespaceOf(store: ElementumStore, req: SimRequest): Namespace {
  const recordType = req.params.recordType ?? ''
  const alias = req.params.alias ?? ''
  if (!isRecordType(recordType)) throw new SimHttpError(404, `Unknown record type "${recordType}"`)
  const ns = store.namespace(recordType, alias)
  if (!ns) throw new SimHttpError(404, `No ${recordType} with alias "${alias}"`)
  return ns
}

export function recordOf(store: ElementumStore, req: SimRequest): ElementumRecord {
  const ns = namespaceOf(store, req)
  const id = req.params.id ?? ''
  const record = ns.byId.get(id)
  if (!record) throw new SimHttpError(404, `Record "${id}" not found in ${ns.recordType}/${ns.alias}`)
  return record
}

export const jsonObject = (req: SimRequest): Record<string, unknown> => parseJsonObject(req, 'Request body must be a JSON object')

/** A record body: the bare field map, or the same wrapped as `{data: {...}}`. */
export function fieldsOf(body: Record<string, unknown>): FieldPatch {
  const keys = Object.keys(body)
  const inner = keys.length === 1 && keys[0] === 'data' && isJsonObject(body.data) ? body.data : body
  return inner as FieldPatch
}
