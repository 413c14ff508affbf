import { describe, expect, it } from 'vitest'
import { InvalidRecordError } from '../../src/engine/errors.js'
import { createHash } from 'node:crypto'
import { actorOf, canonicalTimestamp, diffSnapshots, stableStringify, toMirrorRow } from '../../src/engine/record.js'
import type { RemoteRecord } from '../../src/engine/types.js'

describe('canonicalTimestamp', () => {
  it('keeps dates Postgres can store and drops the ones it cannot', () => {
    expect(canonicalTimestamp('2026-03-01')).toBe('2026-03-01T00:00:00.000Z')
    expect(canonicalTimestamp('0000-01-01T00:00:00Z')).toBeNull()
    expect(canonicalTimestamp('+099999-01-01T00:00:00Z')).toBeNull()
    expect(canonicalTimestamp('not a date')).toBeNull()
  })
})

describe('toMirrorRow', () => {
  it('refuses a record without a remote id as an invalid_record error', () => {
    const attempt = () => toMirrorRow({ remoteId: '', document: {} }, { nulBytesStripped: 0 })
    expect(attempt).toThrow(InvalidRecordError)
    expect(attempt).toThrow(expect.objectContaining({ code: 'invalid_record', message: 'record without a remote id' }))
  })
})

describe('the content hash', () => {
  it('is the hash of the canonical JSON of the snapshot and the document, as stored hashes were made', () => {
    const hash = (o: unknown) => createHash('sha256').update(stableStringify(o)).digest('base64url')
    const withDoc = toMirrorRow({ remoteId: 'a', title: 'A', document: { z: 1, a: [null, 'x'] } }, { nulBytesStripped: 0 })
    expect(withDoc.contentHash).toBe(hash({ snapshot: withDoc.snapshot, document: { z: 1, a: [null, 'x'] } }))
    const noDoc = toMirrorRow({ remoteId: 'b', title: 'B' } as RemoteRecord, { nulBytesStripped: 0 })
    expect(noDoc.contentHash).toBe(hash({ snapshot: noDoc.snapshot }))
  })
})

describe('an insert’s changes', () => {
  it('list every field that is not null, the old value null, as a diff against nothing did', () => {
    const { snapshot } = toMirrorRow(
      {
        remoteId: 'a',
        title: 'A',
        status: null,
        assignees: [],
        fields: { n: Number.NaN, z: null, list: [], zero: 0, empty: '' },
        document: {},
      } as unknown as RemoteRecord,
      { nulBytesStripped: 0 },
    )
    expect(diffSnapshots(null, snapshot)).toEqual({
      title: { old: null, new: 'A' },
      assignees: { old: null, new: [] },
      'fields.list': { old: null, new: [] },
      'fields.zero': { old: null, new: 0 },
      'fields.empty': { old: null, new: '' },
    })
  })
})

describe('who created and who changed a record', () => {
  const record = (over: Partial<RemoteRecord> = {}): RemoteRecord => ({ remoteId: 'a', title: 'A', status: 'Open', document: { id: 'a' }, ...over })
  const row = (over: Partial<RemoteRecord> = {}) => toMirrorRow(record(over), { nulBytesStripped: 0 })

  it('keeps the snapshot and its hash as they were for a source that names no one', () => {
    const plain = row()
    expect(Object.keys(plain.snapshot)).not.toContain('created_by')
    expect(Object.keys(plain.snapshot)).not.toContain('updated_by')
    expect(row({ createdBy: null, updatedBy: '' }).contentHash).toBe(plain.contentHash)
    expect(row({ createdBy: 'ada@example.com' }).contentHash).not.toBe(plain.contentHash)
  })

  it('lists the creator and updater on an insert, and never the updater on an update', () => {
    const first = row({ createdBy: 'ada@example.com', updatedBy: 'ada@example.com' }).snapshot
    expect(diffSnapshots(null, first)).toMatchObject({ created_by: { old: null, new: 'ada@example.com' }, updated_by: { old: null, new: 'ada@example.com' } })
    const next = row({ status: 'Closed', createdBy: 'ada@example.com', updatedBy: 'grace@example.com' }).snapshot
    expect(diffSnapshots(first, next)).toEqual({ status: { old: 'Open', new: 'Closed' } })
  })

  it('lists a creator that went away, since an update compares the columns of both sides', () => {
    const before = row({ createdBy: 'ada@example.com' }).snapshot
    expect(diffSnapshots(before, row().snapshot)).toEqual({ created_by: { old: 'ada@example.com', new: null } })
  })

  it('names the actor of a change: the last updater, else for an insert the creator, else nobody', () => {
    expect(actorOf('update', row({ createdBy: 'ada', updatedBy: 'grace' }).snapshot)).toBe('grace')
    expect(actorOf('insert', row({ createdBy: 'ada' }).snapshot)).toBe('ada')
    expect(actorOf('update', row({ createdBy: 'ada' }).snapshot)).toBeNull()
    expect(actorOf('restore', row().snapshot)).toBeNull()
  })
})
