import { describe, expect, it } from 'vitest'
import { countWrites, planPage, type StoredRecord } from '../../src/engine/plan.js'
import { toMirrorRow, type MirrorRow } from '../../src/engine/record.js'
import type { RemoteRecord } from '../../src/engine/types.js'

const row = (id: string, over: Partial<RemoteRecord> = {}): MirrorRow =>
  toMirrorRow({ remoteId: id, title: `Task ${id}`, status: 'To Do', document: { id }, ...over }, { nulBytesStripped: 0 })

const stored = (r: MirrorRow, over: Partial<StoredRecord> = {}): StoredRecord => ({
  remoteId: r.remoteId,
  contentHash: r.contentHash,
  version: 1,
  deleted: false,
  snapshot: r.snapshot,
  ...over,
})

const existing = (...records: StoredRecord[]) => new Map(records.map((r) => [r.remoteId, r]))

describe('planPage', () => {
  it('inserts an unknown record at version 1, listing its fields with old null', () => {
    const plan = planPage([row('a')], existing())
    expect(plan.writes).toHaveLength(1)
    expect(plan.writes[0]).toMatchObject({ op: 'insert', version: 1 })
    expect(plan.writes[0]?.changed).toMatchObject({ title: { old: null, new: 'Task a' }, status: { old: null, new: 'To Do' } })
    expect(plan.writes[0]?.changed).not.toHaveProperty('priority')
  })

  it('updates a changed record at version+1 with only the fields that changed', () => {
    const before = row('a')
    const plan = planPage([row('a', { status: 'Done' })], existing(stored(before, { version: 4 })))
    expect(plan.writes.map((w) => [w.op, w.version, w.changed])).toEqual([['update', 5, { status: { old: 'To Do', new: 'Done' } }]])
  })

  it('never lists remote_updated_at among the changes of an update, only of an insert', () => {
    const before = row('a', { remoteUpdatedAt: '2026-11-20T10:00:00Z' })
    const inserted = planPage([before], existing())
    expect(inserted.writes[0]?.changed).toHaveProperty('remote_updated_at', { old: null, new: '2026-11-20T10:00:00.000Z' })
    const plan = planPage([row('a', { status: 'Done', remoteUpdatedAt: '2026-11-21T10:00:00Z' })], existing(stored(before, { version: 4 })))
    expect(plan.writes.map((w) => [w.op, w.version, w.changed])).toEqual([['update', 5, { status: { old: 'To Do', new: 'Done' } }]])
    expect(plan.writes[0]?.row.snapshot.remote_updated_at).toBe('2026-11-21T10:00:00.000Z')
  })

  it('writes a record whose only change is its timestamp in place: same version, no history', () => {
    const before = row('a', { remoteUpdatedAt: '2026-11-20T10:00:00Z' })
    const plan = planPage([row('a', { remoteUpdatedAt: '2026-11-21T10:00:00Z' })], existing(stored(before, { version: 4 })))
    expect(plan.writes).toEqual([])
    expect(plan.touches.map((w) => [w.op, w.version, w.row.snapshot.remote_updated_at])).toEqual([['update', 4, '2026-11-21T10:00:00.000Z']])
    expect(countWrites(plan)).toEqual({ insert: 0, update: 0, restore: 0 })
  })

  it('restores a deleted record even when its content is unchanged', () => {
    const same = row('a')
    const plan = planPage([same], existing(stored(same, { version: 2, deleted: true })))
    expect(plan.writes.map((w) => [w.op, w.version, w.changed])).toEqual([['restore', 3, {}]])
    expect(plan.unchanged).toBe(0)
  })

  it('skips a live record whose content hash is unchanged', () => {
    const same = row('a')
    const plan = planPage([same, row('b')], existing(stored(same)))
    expect(plan.unchanged).toBe(1)
    expect(plan.writes.map((w) => w.row.remoteId)).toEqual(['b'])
    expect(countWrites(plan)).toEqual({ insert: 1, update: 0, restore: 0 })
  })

  it('keeps the last occurrence of an id repeated within one page', () => {
    const plan = planPage([row('a', { title: 'older' }), row('b'), row('a', { title: 'newer' })], existing())
    expect(plan.rows.map((r) => r.remoteId)).toEqual(['a', 'b'])
    expect(plan.writes.map((w) => [w.row.remoteId, w.row.snapshot.title, w.version])).toEqual([
      ['a', 'newer', 1],
      ['b', 'Task b', 1],
    ])
  })

  it('compares a repeated id with the stored record, not with its earlier occurrence in the page', () => {
    const before = row('a')
    const plan = planPage([row('a', { title: 'changed' }), before], existing(stored(before)))
    expect(plan.writes).toEqual([])
    expect(plan.unchanged).toBe(1)
  })
})
