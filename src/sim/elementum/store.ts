import { randomUUID } from 'node:crypto'
import { SimHttpError, type SimClock } from '../common/index.js'
import { API_USER, findUser, type ElementumUser } from './users.js'

/**
 * The simulator's state: namespaces (recordType + alias) of records whose `data` is a map
 * of display name → string, plus each record's comments, attachments, relations and
 * watchers. Every record, comment, attachment and relation gets a store-wide sequence
 * number; lists are kept sorted by it, which is what cursors point into.
 */

export const RECORD_TYPES = ['apps', 'elements', 'tasks', 'transactions'] as const
export type RecordType = (typeof RECORD_TYPES)[number]
export const ID_PREFIX: Readonly<Record<RecordType, string>> = { apps: 'APP', elements: 'ELM', tasks: 'TSK', transactions: 'TRX' }
/** The `type` of a related item. */
export const RELATED_TYPE: Readonly<Record<RecordType, string>> = { apps: 'APP', elements: 'ELEMENT', tasks: 'TASK', transactions: 'TRANSACTION' }
export const STATUSES = ['Open', 'In Progress', 'Closed', 'Cancelled'] as const
export const PRIORITIES = ['P1', 'P2', 'P3', 'P4'] as const
/**
 * Set by the system; ignored when a client sends them. `Created by` and `Updated by` name the
 * user (by e-mail, as `Assignee` does) who created the record and who last saved it: the API
 * user for API writes, the person for edits in the web UI.
 */
export const SYSTEM_FIELDS: ReadonlySet<string> = new Set(['id', 'Created on', 'Updated on', 'Created by', 'Updated by'])

export type Fields = Record<string, string>
/** A partial update: a string sets a field, null removes it. */
export type FieldPatch = Record<string, string | null>
export type CommentSource = 'WEB' | 'API' | 'WORKFLOW'

export interface ElementumComment {
  seq: number
  id: string
  createdAt: string
  source: CommentSource
  contents: string
  createdBy: ElementumUser
}

export interface ElementumAttachment {
  seq: number
  id: string
  name: string
  description: string
  mediaType: string
  size: number
  viewState: 'PRIVATE' | 'PUBLIC'
  createdAt: string
  /** Simulated time at which processing finishes (uploads answer 202 and are PROCESSING until then). */
  readyAtMs: number
  content?: Buffer
  /** Set for url-links instead of content. */
  url?: string
  /** Processing failed: the attachment stays in state ERROR. */
  failed?: boolean
}

export interface ElementumRelation {
  seq: number
  relationId: string
  recordType: RecordType
  alias: string
  id: string
}

export interface ElementumRecord {
  seq: number
  recordType: RecordType
  alias: string
  data: Fields
  comments: ElementumComment[]
  attachments: ElementumAttachment[]
  related: ElementumRelation[]
  watchers: ElementumUser[]
}

export interface Namespace {
  recordType: RecordType
  alias: string
  /** Sequence numbers of live records, ascending (insertion order). */
  order: number[]
  bySeq: Map<number, ElementumRecord>
  byId: Map<string, ElementumRecord>
  nextNumber: number
  /** Bumped on every record change; lets callers cache derived values such as filtered totals. */
  version: number
}

export interface CreateOptions {
  createdAtMs?: number
  updatedAtMs?: number
  /** Who creates it (default the API user). */
  by?: ElementumUser
  /** Who saved it last, when that is someone else (seeded history). */
  updatedBy?: ElementumUser
}

export interface UpdateOptions {
  /** Bump `Updated on` (and `Updated by`) even when no value changed, as a save in the web UI does. */
  alwaysBump?: boolean
  /** Who saves it (default the API user). */
  by?: ElementumUser
}

export interface ElementumStore {
  readonly clock: SimClock
  nextSeq(): number
  namespace(recordType: RecordType, alias: string): Namespace | undefined
  ensureNamespace(recordType: RecordType, alias: string): Namespace
  namespaces(): Namespace[]
  find(recordType: RecordType, alias: string, id: string): ElementumRecord | undefined
  /** Finds a record by alias and id in any record type (related-item targets name only these). */
  findByAlias(alias: string, id: string): ElementumRecord | undefined
  /** Creates a record in an existing namespace (throws a 400 on invalid fields). */
  create(ns: Namespace, fields: FieldPatch, opts?: CreateOptions): ElementumRecord
  /** Applies a patch; bumps `Updated on` when a value changed, or always with `alwaysBump`. Returns whether anything changed. */
  update(record: ElementumRecord, patch: FieldPatch, opts?: UpdateOptions): boolean
  remove(record: ElementumRecord): void
  addComment(record: ElementumRecord, c: { contents: string; source: CommentSource; author: ElementumUser; atMs?: number }): ElementumComment
  /** Relates `record` to the record `id` of `alias` (default: the record's own); relating it again returns the existing relation. */
  relate(record: ElementumRecord, target: { id: string; alias?: string | undefined }): ElementumRelation
  /** Removes a relation by its id or the related record's id; false when there is none. */
  unrelate(record: ElementumRecord, key: string): boolean
  /** People of this workspace besides the fixed directory (see users.ts), e.g. added by a test. */
  readonly people: ElementumUser[]
  /** A user of this workspace by id or email. */
  findUser(ref: { userId?: unknown; email?: unknown }): ElementumUser | undefined
}

export function isRecordType(s: string): s is RecordType {
  return (RECORD_TYPES as readonly string[]).includes(s)
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z)?$/

function validate(patch: FieldPatch, creating: boolean): void {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new SimHttpError(400, 'Record must be a JSON object of field values')
  for (const [key, value] of Object.entries(patch)) {
    if (SYSTEM_FIELDS.has(key)) continue
    if (value === null && !creating) continue
    if (typeof value !== 'string') throw new SimHttpError(400, `Field "${key}" must be a string`)
  }
  const check = (field: string, allowed: readonly string[]): void => {
    const v = patch[field]
    if (v === null && !creating) throw new SimHttpError(400, `Field "${field}" is required and cannot be removed`)
    if (typeof v === 'string' && !allowed.includes(v)) throw new SimHttpError(400, `Invalid value "${v}" for field "${field}"; allowed: ${allowed.join(', ')}`)
  }
  check('Status', STATUSES)
  check('Priority', PRIORITIES)
  const title = patch.Title
  if ((creating && title === undefined) || title === null || title?.trim() === '') throw new SimHttpError(400, 'Field "Title" is required')
  const due = patch['Due Date']
  if (typeof due === 'string' && due !== '' && !(ISO_DATE.test(due) && !Number.isNaN(Date.parse(due))))
    throw new SimHttpError(400, 'Field "Due Date" must be an ISO-8601 date (YYYY-MM-DDTHH:MM:SS.SSSZ)')
}

function indexOfSeq(order: readonly number[], seq: number): number {
  let lo = 0
  let hi = order.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((order[mid] as number) < seq) lo = mid + 1
    else hi = mid
  }
  return order[lo] === seq ? lo : -1
}

export function createElementumStore(clock: SimClock): ElementumStore {
  const spaces = new Map<string, Namespace>()
  let seq = 0
  const key = (recordType: string, alias: string): string => `${recordType}/${alias}`
  const iso = (ms: number): string => new Date(ms).toISOString()

  const store: ElementumStore = {
    clock,
    nextSeq: () => ++seq,
    namespace: (recordType, alias) => spaces.get(key(recordType, alias)),
    ensureNamespace: (recordType, alias) => {
      const k = key(recordType, alias)
      let ns = spaces.get(k)
      if (!ns) {
        ns = { recordType, alias, order: [], bySeq: new Map(), byId: new Map(), nextNumber: 1, version: 0 }
        spaces.set(k, ns)
      }
      return ns
    },
    namespaces: () => [...spaces.values()],
    find: (recordType, alias, id) => spaces.get(key(recordType, alias))?.byId.get(id),
    findByAlias: (alias, id) => {
      for (const recordType of RECORD_TYPES) {
        const found = spaces.get(key(recordType, alias))?.byId.get(id)
        if (found) return found
      }
      return undefined
    },
    create: (ns, fields, opts = {}) => {
      validate(fields, true)
      const createdAt = opts.createdAtMs ?? clock.now()
      const id = `${ID_PREFIX[ns.recordType]}-${ns.nextNumber++}`
      const data: Fields = { id, Status: 'Open', Priority: 'P3' }
      for (const [k, v] of Object.entries(fields)) if (!SYSTEM_FIELDS.has(k) && typeof v === 'string') data[k] = v
      data['Created on'] = iso(createdAt)
      data['Updated on'] = iso(opts.updatedAtMs ?? createdAt)
      data['Created by'] = (opts.by ?? API_USER).email
      data['Updated by'] = (opts.updatedBy ?? opts.by ?? API_USER).email
      const record: ElementumRecord = {
        seq: store.nextSeq(),
        recordType: ns.recordType,
        alias: ns.alias,
        data,
        comments: [],
        attachments: [],
        related: [],
        watchers: [],
      }
      ns.order.push(record.seq)
      ns.bySeq.set(record.seq, record)
      ns.byId.set(id, record)
      ns.version++
      return record
    },
    update: (record, patch, opts = {}) => {
      validate(patch, false)
      let changed = false
      for (const [k, v] of Object.entries(patch)) {
        if (SYSTEM_FIELDS.has(k)) continue
        if (v === null) {
          if (!(k in record.data)) continue
          delete record.data[k]
          changed = true
        } else if (record.data[k] !== v) {
          record.data[k] = v
          changed = true
        }
      }
      if (changed || opts.alwaysBump) {
        record.data['Updated on'] = iso(clock.now())
        record.data['Updated by'] = (opts.by ?? API_USER).email
        const ns = store.namespace(record.recordType, record.alias)
        if (ns) ns.version++
      }
      return changed
    },
    remove: (record) => {
      const ns = store.namespace(record.recordType, record.alias)
      if (!ns || ns.bySeq.get(record.seq) !== record) return
      ns.order.splice(indexOfSeq(ns.order, record.seq), 1)
      ns.bySeq.delete(record.seq)
      ns.byId.delete(record.data.id as string)
      ns.version++
    },
    addComment: (record, c) => {
      const comment: ElementumComment = {
        seq: store.nextSeq(),
        id: randomUUID(),
        createdAt: iso(c.atMs ?? clock.now()),
        source: c.source,
        contents: c.contents,
        createdBy: c.author,
      }
      record.comments.push(comment)
      return comment
    },
    relate: (record, t) => {
      const target = store.findByAlias(t.alias ?? record.alias, t.id)
      if (!target) throw new SimHttpError(404, `Related record "${t.id}" not found`)
      if (target === record) throw new SimHttpError(400, 'A record cannot be related to itself')
      const existing = record.related.find((r) => r.alias === target.alias && r.id === target.data.id)
      if (existing) return existing
      const relation: ElementumRelation = {
        seq: store.nextSeq(),
        relationId: randomUUID(),
        recordType: target.recordType,
        alias: target.alias,
        id: target.data.id ?? '',
      }
      record.related.push(relation)
      return relation
    },
    unrelate: (record, key) => {
      const index = record.related.findIndex((r) => r.relationId === key || r.id === key)
      if (index < 0) return false
      record.related.splice(index, 1)
      return true
    },
    people: [],
    findUser: (ref) => findUser(ref, store.people),
  }
  return store
}
