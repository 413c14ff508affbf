import { describe, expect, it } from 'vitest'
import { createPgMirror } from '../../src/db/mirror.store.js'
import { createPgReconcileStore } from '../../src/db/reconcile.store.js'
import type { ConflictRecord } from '../../src/engine/write.types.js'
import { createTestDb } from '../support/db.js'
import { mapping, request } from '../support/write.js'

const db = await createTestDb()
const { sql } = db
const store = createPgReconcileStore(sql, { mappings: [mapping('m1')] })
const count = async (table: string) => Number((await sql.unsafe(`select count(*)::int as n from elsync.${table}`))[0]?.n)

const manual: ConflictRecord = {
  field: 'Status',
  leftValue: 'Closed',
  rightValue: 'In Progress',
  base: { left: 'Open', right: 'To Do' },
  policy: 'manual',
  winner: null,
}

describe('the reconcile store', () => {
  it('creates, finds (from either side) and updates links, one per record and mapping', async () => {
    const created = await store.transaction((tx) =>
      tx.createLink('m1', { leftRemoteId: 'TSK-1', rightRemoteId: null, state: 'creating', base: { '0': { left: 'A', right: 'a' } } }),
    )
    expect(created).toMatchObject({ mappingId: 'm1', leftRemoteId: 'TSK-1', rightRemoteId: null, state: 'creating', heldFields: [] })
    await store.transaction(async (tx) => {
      const link = await tx.findLink('m1', 'left', 'TSK-1')
      expect(link).toEqual(created)
      expect(await tx.findLink('m1', 'right', 'TSK-1')).toBeNull()
      expect(await tx.findLink('other', 'left', 'TSK-1')).toBeNull()
      await tx.updateLink({ ...created, rightRemoteId: 'uuid-1', state: 'linked', base: { '0': { left: 'B', right: 'b' } }, heldFields: ['Status'] })
    })
    const found = await store.transaction((tx) => tx.findLink('m1', 'right', 'uuid-1'))
    expect(found).toEqual({ ...created, rightRemoteId: 'uuid-1', state: 'linked', base: { '0': { left: 'B', right: 'b' } }, heldFields: ['Status'] })
    expect((await sql`select last_synced_at from elsync.record_links where id = ${created.id}`)[0]?.last_synced_at).not.toBeNull()
    // a second link of the same record in the same mapping is refused; another mapping may link it
    await expect(store.transaction((tx) => tx.createLink('m1', { leftRemoteId: 'TSK-1', rightRemoteId: null, state: 'creating', base: {} }))).rejects.toThrow(
      /record_links_left/,
    )
    await expect(
      store.transaction((tx) => tx.createLink('m2', { leftRemoteId: 'TSK-1', rightRemoteId: null, state: 'creating', base: {} })),
    ).resolves.toBeDefined()
  })

  it('loads a mirrored record with its snapshot, deletion and the vendor’s modification time', async () => {
    const stream = mapping('m1').left
    await createPgMirror(sql).applyPage(stream, {
      records: [{ remoteId: 'TSK-9', title: 'Printer', status: 'Open', remoteUpdatedAt: '2026-11-30T10:00:00.000Z', document: { id: 'TSK-9' } }],
    })
    const record = await store.transaction((tx) => tx.loadRecord(stream, 'TSK-9'))
    expect(record).toMatchObject({ stream, remoteId: 'TSK-9', deleted: false, remoteUpdatedAt: '2026-11-30T10:00:00.000Z' })
    expect(record?.snapshot).toMatchObject({ title: 'Printer', status: 'Open' })
    expect(await store.transaction((tx) => tx.loadRecord(stream, 'TSK-404'))).toBeNull()
  })

  it('supersedes a queued write that no executor claimed yet by a newer one of the same link, side and operation', async () => {
    const link = await store.transaction((tx) => tx.createLink('m1', { leftRemoteId: 'TSK-2', rightRemoteId: 'uuid-2', state: 'linked', base: {} }))
    const [first, second, left, del] = await store.transaction(async (tx) => [
      await tx.enqueue(request('m1', link.id, { values: { status: 'In Progress' } })),
      await tx.enqueue(request('m1', link.id, { values: { status: 'Done', title: 'Printer' } })),
      await tx.enqueue(request('m1', link.id, { target: 'left', remoteId: 'TSK-2' })),
      await tx.enqueue(request('m1', link.id, { op: 'delete', values: {} })),
    ])
    const rows = await sql`select id, state, superseded_by, field_values from elsync.outbox where link_id = ${link.id} order by id`
    expect(rows.map((r) => [Number(r.id), r.state, r.superseded_by === null ? null : Number(r.superseded_by)])).toEqual([
      [first, 'superseded', second],
      [second, 'pending', null],
      [left, 'pending', null],
      [del, 'pending', null],
    ])
    expect(rows[1]?.field_values).toEqual({ status: 'Done', title: 'Printer' })
  })

  it('carries the fields of the write it supersedes, so that none is lost (the base already awaits their echo)', async () => {
    const link = await store.transaction((tx) => tx.createLink('m1', { leftRemoteId: 'TSK-5', rightRemoteId: 'uuid-5', state: 'linked', base: {} }))
    const decision = (field: string, written: string) => ({
      field,
      base: null,
      left: written,
      right: null,
      rule: 'left-changed' as const,
      written,
      target: 'right' as const,
    })
    const [first, second] = await store.transaction(async (tx) => [
      await tx.enqueue(
        request('m1', link.id, {
          values: { title: 'Printer', status: 'In Progress' },
          decisions: [decision('Title', 'Printer'), decision('Status', 'In Progress')],
        }),
      ),
      await tx.enqueue(request('m1', link.id, { values: { status: 'Done' }, decisions: [decision('Status', 'Done')] })),
    ])
    const rows = await sql`select id, state, field_values, decisions from elsync.outbox where link_id = ${link.id} order by id`
    expect(rows.map((r) => [Number(r.id), r.state])).toEqual([
      [first, 'superseded'],
      [second, 'pending'],
    ])
    expect(rows[1]?.field_values).toEqual({ title: 'Printer', status: 'Done' })
    expect(((rows[1]?.decisions ?? []) as { field: string; written: string }[]).map((d) => [d.field, d.written])).toEqual([
      ['Title', 'Printer'],
      ['Status', 'Done'],
    ])
  })

  it('keeps one open manual conflict per link and field, and records the ones a policy decided as resolved', async () => {
    const link = await store.transaction((tx) => tx.createLink('m1', { leftRemoteId: 'TSK-3', rightRemoteId: 'uuid-3', state: 'linked', base: {} }))
    await store.transaction(async (tx) => {
      await tx.recordConflict(link.id, 'm1', manual)
      await tx.recordConflict(link.id, 'm1', { ...manual, leftValue: 'Cancelled' })
      await tx.recordConflict(link.id, 'm1', { ...manual, field: 'Priority', leftValue: 'P1', rightValue: 'low', policy: 'newest', winner: 'right' })
    })
    const rows = await sql`select field, left_value, right_value, base, policy, winner, state, resolved_by, resolved_at from elsync.field_conflicts
      where link_id = ${link.id} order by field`
    expect(rows).toEqual([
      expect.objectContaining({
        field: 'Priority',
        policy: 'newest',
        winner: 'right',
        state: 'resolved',
        resolved_by: 'policy',
        resolved_at: expect.anything(),
      }),
      expect.objectContaining({
        field: 'Status',
        left_value: 'Cancelled',
        right_value: 'In Progress',
        base: manual.base,
        state: 'open',
        winner: null,
        resolved_at: null,
      }),
    ])
  })

  it('stores the mapping’s offset, and reads back what it stored', async () => {
    expect(await store.offset('fresh')).toBeNull()
    const [x] = await sql<{ txid: string }[]>`select pg_current_xact_id()::text as txid`
    const offset = { txid: x?.txid as string, id: '9007199254740993' }
    await store.transaction((tx) => tx.saveOffset('fresh', offset))
    expect(await store.offset('fresh')).toEqual(offset)
    await store.transaction((tx) => tx.saveOffset('fresh', null))
    expect(await store.offset('fresh')).toBeNull()
  })

  it('keeps nothing of a dry run, and returns what it computed', async () => {
    const before = await Promise.all(['record_links', 'outbox', 'field_conflicts', 'mapping_offsets'].map(count))
    const offsetBefore = await store.offset('m1')
    const plan = await store.transaction(
      async (tx) => {
        const link = await tx.createLink('m1', { leftRemoteId: 'TSK-dry', rightRemoteId: null, state: 'creating', base: {} })
        const id = await tx.enqueue(request('m1', link.id, { op: 'create', remoteId: null, marker: 'elsync:m1:dry' }))
        await tx.recordConflict(link.id, 'm1', manual)
        await tx.saveOffset('m1', { txid: '1', id: '1' })
        await tx.saveOffset('dry-only', { txid: '1', id: '1' })
        // inside, the transaction sees its own writes
        expect(await tx.findLink('m1', 'left', 'TSK-dry')).toMatchObject({ id: link.id })
        return { link: link.id, outbox: id }
      },
      { rollback: true },
    )
    expect(plan).toEqual({ link: expect.any(Number), outbox: expect.any(Number) })
    expect(await Promise.all(['record_links', 'outbox', 'field_conflicts', 'mapping_offsets'].map(count))).toEqual(before)
    expect(await store.offset('m1')).toEqual(offsetBefore)
    expect(await store.transaction((tx) => tx.findLink('m1', 'left', 'TSK-dry'))).toBeNull()
  })

  it('rolls back everything when the transaction fails, and passes the error on', async () => {
    const boom = new Error('merge failed')
    await expect(
      store.transaction(async (tx) => {
        await tx.createLink('m1', { leftRemoteId: 'TSK-fail', rightRemoteId: null, state: 'creating', base: {} })
        throw boom
      }),
    ).rejects.toBe(boom)
    expect(await store.transaction((tx) => tx.findLink('m1', 'left', 'TSK-fail'))).toBeNull()
  })

  it('saves the streams of the configured mappings’ sides for the views', async () => {
    const [m] = await sql`select left_connection, left_stream, right_connection, right_stream from elsync.mapping_offsets where mapping_id = 'm1'`
    expect(m).toEqual({ left_connection: 'elementum', left_stream: 'it-m1', right_connection: 'elean', right_stream: 'web-m1' })
  })
})
