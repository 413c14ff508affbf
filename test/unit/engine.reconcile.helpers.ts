/**
 * Fixtures for the reconcile tests: the example mapping between Elementum and Elean with
 * the real field catalogs, mirrored records as reconcile reads them, and in-memory fakes of
 * the change feed and the reconcile store (a transaction works on a copy, kept on commit).
 */
import { createEleanFieldCatalog } from '../../src/connectors/elean/elean.fields.js'
import { statusLookup } from '../../src/connectors/elean/elean.normalize.js'
import { createElementumFieldCatalog } from '../../src/connectors/elementum/elementum.fields.js'
import { readSide, type SideCatalogs } from '../../src/engine/project.js'
import type { ChangeFeed, FeedChange, FeedOffset, FeedRead } from '../../src/engine/ports.js'
import type { Snapshot } from '../../src/engine/record.js'
import type { StreamRef } from '../../src/engine/types.js'
import type { Base, ConflictRecord, Link, MappingSpec, MirroredRecord, OutboxRequest, ReconcileStore, ReconcileTx, Side } from '../../src/engine/write.types.js'

export const LEFT: StreamRef = { connection: 'elementum', stream: 'it-requests' }
export const RIGHT: StreamRef = { connection: 'elean', stream: 'web' }
export const NOW = new Date('2026-03-01T12:00:00.000Z')

const statuses = statusLookup([
  { id: 's1', name: 'To Do', category: 'todo' },
  { id: 's2', name: 'In Progress', category: 'in_progress' },
  { id: 's3', name: 'Done', category: 'done' },
])

export function catalogs(): SideCatalogs {
  return {
    left: createElementumFieldCatalog({ streams: { 'it-requests': { recordType: 'tasks', alias: 'it-requests', cursorField: 'Updated on' } } }),
    right: createEleanFieldCatalog({ connection: 'elean', streams: { web: { project: 'web' } }, statuses: async () => statuses }),
  }
}

/** The example mapping of mappings/it-requests.mapping.yaml, without its filter unless given. */
export function mapping(over: Partial<MappingSpec> = {}): MappingSpec {
  return {
    id: 'it-requests',
    left: { ...LEFT },
    right: { ...RIGHT },
    create: 'both',
    conflict: 'newest',
    delete: 'ignore',
    fields: [
      { left: 'Title', right: 'title', direction: 'both' },
      { left: 'Description', right: 'description', direction: 'both' },
      { left: 'Status', right: 'status', direction: 'both', values: { Open: 'To Do', 'In Progress': 'In Progress', Closed: 'Done' } },
      { left: 'Priority', right: 'priority', direction: 'left-to-right', values: { P1: 'urgent', P2: 'high', P3: 'medium', P4: 'low' } },
      { left: 'Due Date', right: 'dueDate', direction: 'both' },
    ],
    ...over,
  }
}

function snapshot(over: Partial<Snapshot>): Snapshot {
  return {
    external_key: null,
    title: null,
    status: null,
    status_category: null,
    priority: null,
    due_at: null,
    description: null,
    assignees: [],
    remote_created_at: null,
    remote_updated_at: null,
    fields: {},
    ...over,
  }
}

export interface TaskValues {
  title?: string | null
  status?: string | null
  priority?: string | null
  due?: string | null
  description?: string | null
  updatedAt?: string
  deleted?: boolean
  fields?: Record<string, unknown>
}

function mirrored(stream: StreamRef, remoteId: string, key: string, v: TaskValues): MirroredRecord {
  const updated = v.updatedAt ?? '2026-03-01T10:00:00.000Z'
  return {
    stream,
    remoteId,
    deleted: v.deleted ?? false,
    remoteUpdatedAt: updated,
    snapshot: snapshot({
      external_key: key,
      title: v.title ?? null,
      status: v.status ?? null,
      priority: v.priority ?? null,
      due_at: v.due ?? null,
      description: v.description ?? null,
      remote_updated_at: updated,
      fields: v.fields ?? {},
    }),
  }
}

/** An Elementum record as mirrored: its remote id is its key (`TSK-4`). */
export const elementum = (id: string, v: TaskValues): MirroredRecord => mirrored(LEFT, id, id, v)
/** An Elean task as mirrored: a UUID-like remote id and its external key. */
export const elean = (key: string, v: TaskValues): MirroredRecord => mirrored(RIGHT, `uuid-${key}`, key, v)

export function link(over: Partial<Link> = {}): Link {
  return { id: 7, mappingId: 'it-requests', leftRemoteId: 'TSK-4', rightRemoteId: 'uuid-WEB-1', state: 'linked', base: {}, heldFields: [], ...over }
}

// ------------------------------------------------------------------ fakes

export interface StoreState {
  links: Link[]
  records: MirroredRecord[]
  outbox: OutboxRequest[]
  conflicts: { linkId: number; mappingId: string; conflict: ConflictRecord }[]
  offsets: Record<string, FeedOffset | null>
  nextLinkId: number
}

export interface FakeStore extends ReconcileStore {
  state: StoreState
  transactions: number
  /** Makes the next `enqueue` throw (a database gone mid-batch). */
  failNextEnqueue: boolean
  put(record: MirroredRecord): void
}

const sameStream = (a: StreamRef, b: StreamRef) => a.connection === b.connection && a.stream === b.stream

export function fakeStore(init: Partial<StoreState> = {}): FakeStore {
  const store: FakeStore = {
    state: { links: [], records: [], outbox: [], conflicts: [], offsets: {}, nextLinkId: 1, ...init },
    transactions: 0,
    failNextEnqueue: false,
    put(record) {
      store.state.records = store.state.records.filter((r) => !(sameStream(r.stream, record.stream) && r.remoteId === record.remoteId))
      store.state.records.push(record)
    },
    async offset(mappingId) {
      return store.state.offsets[mappingId] ?? null
    },
    async transaction(fn, opts) {
      store.transactions += 1
      const s: StoreState = structuredClone(store.state)
      const tx: ReconcileTx = {
        async findLink(mappingId, side: Side, remoteId) {
          const l = s.links.find((x) => x.mappingId === mappingId && (side === 'left' ? x.leftRemoteId : x.rightRemoteId) === remoteId)
          return l ? structuredClone(l) : null
        },
        async findLinkById(mappingId, linkId) {
          const l = s.links.find((x) => x.mappingId === mappingId && x.id === linkId)
          return l ? structuredClone(l) : null
        },
        async createLink(mappingId, i) {
          const l: Link = { id: s.nextLinkId++, mappingId, ...structuredClone(i), heldFields: [] }
          s.links.push(l)
          return structuredClone(l)
        },
        async updateLink(l) {
          s.links = s.links.map((x) => (x.id === l.id ? structuredClone(l) : x))
        },
        async loadRecord(stream, remoteId) {
          const r = s.records.find((x) => sameStream(x.stream, stream) && x.remoteId === remoteId)
          return r ? structuredClone(r) : null
        },
        async enqueue(req) {
          if (store.failNextEnqueue) {
            store.failNextEnqueue = false
            throw new Error('connection terminated')
          }
          s.outbox.push(structuredClone(req))
          return s.outbox.length
        },
        async recordConflict(linkId, mappingId, conflict) {
          s.conflicts.push({ linkId, mappingId, conflict: structuredClone(conflict) })
        },
        async saveOffset(mappingId, offset) {
          s.offsets[mappingId] = offset
        },
      }
      const out = await fn(tx)
      if (!opts?.rollback) store.state = s
      return out
    },
  }
  return store
}

export interface FakeFeed extends ChangeFeed {
  changes: FeedChange[]
  reads: FeedRead[]
  add(stream: StreamRef, remoteId: string, op?: FeedChange['op'], source?: FeedChange['source']): void
}

export function fakeFeed(): FakeFeed {
  const feed: FakeFeed = {
    changes: [],
    reads: [],
    add(stream, remoteId, op = 'update', source = 'poll') {
      const id = String(feed.changes.length + 1)
      feed.changes.push({
        offset: { txid: id, id },
        recordId: `${stream.stream}:${remoteId}`,
        connection: stream.connection,
        stream: stream.stream,
        remoteId,
        version: 1,
        op,
        changed: {},
        source,
        runId: null,
        outboxId: null,
        observedAt: NOW,
      })
    },
    async read(opts) {
      feed.reads.push(opts)
      const from = opts.after ? Number(opts.after.id) : 0
      const wanted = (c: FeedChange) => !opts.streams || opts.streams.some((s) => sameStream(s, c))
      const changes = feed.changes.filter((c) => Number(c.offset.id) > from && wanted(c)).slice(0, opts.limit)
      return { changes, next: changes.at(-1)?.offset ?? opts.after }
    },
  }
  return feed
}

/** A base where both sides agree on their current values (a link synced up to now). */
export function agreedBase(m: MappingSpec, c: SideCatalogs, left: MirroredRecord, right: MirroredRecord): Base {
  const base: Base = {}
  m.fields.forEach((f, i) => {
    base[String(i)] = { left: readSide(m, c, 'left', f, left.snapshot), right: readSide(m, c, 'right', f, right.snapshot) }
  })
  return base
}
