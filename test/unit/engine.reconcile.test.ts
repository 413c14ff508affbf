import { describe, expect, it } from 'vitest'
import { planLine, reconcileMapping, type ReconcileMappingOptions } from '../../src/engine/reconcile.js'
import type { MappingSpec, OutboxRequest } from '../../src/engine/write.types.js'
import {
  agreedBase,
  catalogs,
  elean,
  elementum,
  fakeFeed,
  fakeStore,
  LEFT,
  link,
  mapping,
  NOW,
  RIGHT,
  type FakeFeed,
  type FakeStore,
} from './engine.reconcile.helpers.js'

const c = catalogs()
const LEFT0 = { title: 'Laptop', status: 'Open', priority: 'P2', due: '2026-03-15T00:00:00.000Z', description: 'Needs a charger' }
const RIGHT0 = { title: 'Laptop', status: 'To Do', priority: 'high', due: '2026-03-15T00:00:00.000Z', description: 'Needs a charger' }

const reconcile = (store: FakeStore, feed: FakeFeed, over: Partial<ReconcileMappingOptions> = {}) =>
  reconcileMapping({ mapping: mapping(), feed, store, catalogs: c, batchSize: 100, now: () => NOW, ...over })

/** A store holding TSK-4 and WEB-1, linked and in agreement. */
function linkedStore(m: MappingSpec = mapping()): FakeStore {
  const store = fakeStore()
  const l = elementum('TSK-4', LEFT0)
  const r = elean('WEB-1', RIGHT0)
  store.put(l)
  store.put(r)
  store.state.links.push(link({ id: 7, base: agreedBase(m, c, l, r) }))
  store.state.nextLinkId = 8
  return store
}

describe('reconcileMapping: creates and their echo', () => {
  it('links a new record, queues its create with the marker, and takes the created record back without a write', async () => {
    const store = fakeStore()
    const feed = fakeFeed()
    store.put(elementum('TSK-12', { ...LEFT0, title: 'Laptop  ' }))
    feed.add(LEFT, 'TSK-12', 'insert')

    const first = await reconcile(store, feed)
    expect(first).toMatchObject({ changes: 1, records: 1, linksCreated: 1, errors: [] })
    expect(store.state.links).toMatchObject([{ id: 1, leftRemoteId: 'TSK-12', rightRemoteId: null, state: 'creating' }])
    expect(store.state.outbox).toHaveLength(1)
    expect(store.state.outbox[0]).toMatchObject({ op: 'create', linkId: 1, target: 'right', marker: 'elsync:it-requests:1', values: { title: 'Laptop' } })
    expect(first.plan).toEqual(['create elean/web ← elementum TSK-12 "Laptop  "'])
    expect(store.state.offsets['it-requests']).toEqual({ txid: '1', id: '1' })

    // the executor created WEB-9 and recorded it on the link; the push's record is mirrored
    const created = store.state.links[0] as (typeof store.state.links)[number]
    store.state.links = [{ ...created, rightRemoteId: 'uuid-WEB-9', state: 'linked' }]
    store.put(elean('WEB-9', { ...RIGHT0, title: 'Laptop' }))
    feed.add(RIGHT, 'uuid-WEB-9', 'insert', 'push')
    const echo = await reconcile(store, feed)
    expect(echo).toMatchObject({ changes: 1, records: 1, requests: [], conflicts: [], errors: [] })
    expect(store.state.outbox).toHaveLength(1)
  })

  it('binds a record carrying its create marker to that link instead of creating it back (the push crashed before recording it)', async () => {
    const store = fakeStore()
    const feed = fakeFeed()
    store.put(elementum('TSK-12', LEFT0))
    feed.add(LEFT, 'TSK-12', 'insert')
    await reconcile(store, feed)
    expect(store.state.links).toMatchObject([{ id: 1, rightRemoteId: null, state: 'creating' }])

    // the create reached Elean, the process died before the link heard of it; the next poll mirrors the new task
    store.put({ ...elean('WEB-9', RIGHT0), document: { id: 'uuid-WEB-9', description: 'Needs a charger\n\nelsync:it-requests:1' } })
    feed.add(RIGHT, 'uuid-WEB-9', 'insert')
    const next = await reconcile(store, feed)
    expect(next).toMatchObject({ linksCreated: 0, requests: [], errors: [] })
    expect(store.state.links).toMatchObject([{ id: 1, leftRemoteId: 'TSK-12', rightRemoteId: 'uuid-WEB-9', state: 'linked' }])
    // one create in all: the one queued for TSK-12
    expect(store.state.outbox.filter((r) => r.op === 'create')).toHaveLength(1)
  })

  it('creates nothing for a record outside the mapping filter', async () => {
    const store = fakeStore()
    const feed = fakeFeed()
    store.put(elementum('TSK-13', { ...LEFT0, status: 'Cancelled' }))
    feed.add(LEFT, 'TSK-13', 'insert')
    const m = mapping({ left: { ...LEFT, filter: 'Status!=Cancelled' } })
    const out = await reconcile(store, feed, { mapping: m })
    expect(out).toMatchObject({ changes: 1, linksCreated: 0, requests: [] })
    expect(store.state.links).toEqual([])
    expect(store.state.offsets['it-requests']).toEqual({ txid: '1', id: '1' })
  })
})

describe('reconcileMapping: updates', () => {
  it('queues one update per changed record, with a plan line naming the old and new values', async () => {
    const store = linkedStore()
    const feed = fakeFeed()
    store.put(elean('WEB-1', { ...RIGHT0, status: 'Done' }))
    feed.add(RIGHT, 'uuid-WEB-1')
    const out = await reconcile(store, feed)
    expect(out.plan).toEqual(['update elementum TSK-4 Status: Open → Closed'])
    expect(store.state.outbox).toMatchObject([{ op: 'update', linkId: 7, target: 'left', remoteId: 'TSK-4', values: { Status: 'Closed' } }])
    expect(store.state.links[0]?.base['2']).toEqual({ left: 'Closed', right: 'Done', pending: { target: 'left', previous: 'Open' } })
  })

  it('reconciles a record changed several times in a batch once', async () => {
    const store = linkedStore()
    const feed = fakeFeed()
    store.put(elementum('TSK-4', { ...LEFT0, title: 'Third' }))
    for (let i = 0; i < 3; i++) feed.add(LEFT, 'TSK-4')
    const out = await reconcile(store, feed)
    expect(out).toMatchObject({ changes: 3, records: 1 })
    expect(store.state.outbox).toHaveLength(1)
  })

  it('merges a link once when both its records changed in the batch', async () => {
    const store = linkedStore()
    const feed = fakeFeed()
    store.put(elementum('TSK-4', { ...LEFT0, title: 'From the left' }))
    store.put(elean('WEB-1', { ...RIGHT0, status: 'Done' }))
    feed.add(LEFT, 'TSK-4')
    feed.add(RIGHT, 'uuid-WEB-1')
    const out = await reconcile(store, feed)
    expect(out.records).toBe(1)
    expect(store.state.outbox.map((r) => [r.target, r.values])).toEqual([
      ['left', { Status: 'Closed' }],
      ['right', { title: 'From the left' }],
    ])
  })

  it('records conflicts with their link, and holds a manual one', async () => {
    const m = mapping({ conflict: 'manual' })
    const store = linkedStore(m)
    const feed = fakeFeed()
    store.put(elementum('TSK-4', { ...LEFT0, title: 'Left' }))
    store.put(elean('WEB-1', { ...RIGHT0, title: 'Right' }))
    feed.add(LEFT, 'TSK-4')
    const out = await reconcile(store, feed, { mapping: m })
    expect(out.conflicts).toMatchObject([{ linkId: 7, field: 'Title ↔ title', winner: null }])
    expect(store.state.conflicts).toMatchObject([
      { linkId: 7, mappingId: 'it-requests', conflict: { policy: 'manual', leftValue: 'Left', rightValue: 'Right' } },
    ])
    expect(store.state.links[0]?.heldFields).toEqual(['Title ↔ title'])
    expect(store.state.outbox).toEqual([])
  })

  it('reports an unmappable value as an error of that record and field, and syncs the rest', async () => {
    const store = linkedStore()
    const feed = fakeFeed()
    store.put(elementum('TSK-4', { ...LEFT0, status: 'Waiting', title: 'Renamed' }))
    feed.add(LEFT, 'TSK-4')
    const out = await reconcile(store, feed)
    expect(out.errors).toMatchObject([{ stream: LEFT, remoteId: 'TSK-4', field: 'Status ↔ status', code: 'unmappable_value' }])
    expect(store.state.outbox).toMatchObject([{ values: { title: 'Renamed' } }])
  })

  it('goes on past a record whose merge throws', async () => {
    const store = linkedStore()
    const feed = fakeFeed()
    store.put(elementum('TSK-66', LEFT0))
    store.put(elementum('TSK-4', { ...LEFT0, title: 'Renamed' }))
    feed.add(LEFT, 'TSK-66', 'insert')
    feed.add(LEFT, 'TSK-4')
    const broken = {
      ...c,
      left: { ...c.left, read: (s: Parameters<typeof c.left.read>[0], n: string) => (s.external_key === 'TSK-66' ? boom() : c.left.read(s, n)) },
    }
    const out = await reconcile(store, feed, { catalogs: broken })
    expect(out.errors).toMatchObject([{ remoteId: 'TSK-66', code: 'sync_error', message: 'catalog fault' }])
    expect(store.state.outbox).toMatchObject([{ target: 'right', values: { title: 'Renamed' } }])
    expect(store.state.offsets['it-requests']).toEqual({ txid: '2', id: '2' })
  })
})

const boom = (): never => {
  throw new Error('catalog fault')
}

describe('reconcileMapping: the feed and its offset', () => {
  it('reads the mapping’s two streams from its stored offset, a transaction per batch', async () => {
    const store = fakeStore({ offsets: { 'it-requests': { txid: '2', id: '2' } } })
    const feed = fakeFeed()
    for (let i = 1; i <= 7; i++) {
      store.put(elementum(`TSK-${i}`, LEFT0))
      feed.add(LEFT, `TSK-${i}`, 'insert')
    }
    const out = await reconcile(store, feed, { batchSize: 2 })
    expect(feed.reads[0]).toEqual({ after: { txid: '2', id: '2' }, limit: 2, streams: [LEFT, RIGHT] })
    expect(out).toMatchObject({ changes: 5, records: 5, linksCreated: 5 })
    expect(store.transactions).toBe(3)
    expect(store.state.offsets['it-requests']).toEqual({ txid: '7', id: '7' })
    expect(store.state.outbox.map((r) => r.marker)).toEqual([1, 2, 3, 4, 5].map((n) => `elsync:it-requests:${n}`))
  })

  it('writes nothing when the feed has nothing new', async () => {
    const store = linkedStore()
    const feed = fakeFeed()
    const before = structuredClone(store.state)
    expect(await reconcile(store, feed)).toMatchObject({ changes: 0, records: 0, requests: [] })
    expect(store.state).toEqual(before)
  })

  it('keeps nothing of a batch whose transaction fails, and plans it again on the next run', async () => {
    const store = linkedStore()
    const feed = fakeFeed()
    store.put(elementum('TSK-4', { ...LEFT0, title: 'Renamed' }))
    feed.add(LEFT, 'TSK-4')
    const before = structuredClone(store.state)
    store.failNextEnqueue = true
    await expect(reconcile(store, feed)).rejects.toThrow('connection terminated')
    expect(store.state).toEqual(before)
    const again = await reconcile(store, feed)
    expect(again.requests).toHaveLength(1)
    expect(store.state.offsets['it-requests']).toEqual({ txid: '1', id: '1' })
  })

  it('dry run: plans every batch and leaves the store untouched', async () => {
    const store = linkedStore()
    const feed = fakeFeed()
    store.put(elean('WEB-1', { ...RIGHT0, status: 'Done' }))
    store.put(elementum('TSK-20', { ...LEFT0, title: 'New one' }))
    feed.add(RIGHT, 'uuid-WEB-1')
    feed.add(LEFT, 'TSK-20', 'insert')
    feed.add(LEFT, 'TSK-20')
    const before = structuredClone(store.state)
    const out = await reconcile(store, feed, { dryRun: true, batchSize: 1 })
    expect(out.plan).toEqual(['update elementum TSK-4 Status: Open → Closed', 'create elean/web ← elementum TSK-20 "New one"'])
    expect(out.requests).toHaveLength(2)
    expect(store.state).toEqual(before)
    expect(store.transactions).toBe(1)
  })
})

describe('planLine', () => {
  const req = (over: Partial<OutboxRequest>): OutboxRequest => ({
    mappingId: 'it-requests',
    linkId: 1,
    target: 'left',
    stream: LEFT,
    op: 'update',
    remoteId: 'TSK-4',
    values: {},
    decisions: [],
    ...over,
  })

  it('names each changed field with its old and new value, quoting what is not plain text', () => {
    const line = planLine(
      req({
        values: { Status: 'Closed', Description: 'Two\nlines' },
        decisions: [
          { field: 'Status ↔ status', base: null, left: 'Open', right: 'Done', rule: 'right-changed', target: 'left', written: 'Closed' },
          { field: 'Description ↔ description', base: null, left: null, right: 'Two\nlines', rule: 'right-changed', target: 'left', written: 'Two\nlines' },
        ],
      }),
      { mapping: mapping() },
    )
    expect(line).toBe('update elementum TSK-4 Status: Open → Closed, Description: ∅ → "Two\\nlines"')
  })

  it('prints creates and deletes', () => {
    expect(
      planLine(req({ op: 'create', remoteId: null, target: 'right', stream: RIGHT }), { source: { connection: 'elementum', key: 'TSK-12' }, title: 'Title' }),
    ).toBe('create elean/web ← elementum TSK-12 "Title"')
    expect(planLine(req({ op: 'delete', target: 'right', stream: RIGHT, remoteId: 'uuid-1' }), { targetKey: 'WEB-3' })).toBe('delete elean WEB-3')
  })
})
