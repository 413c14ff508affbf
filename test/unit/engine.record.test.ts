import { describe, expect, it } from 'vitest'
import { InvalidRecordError } from '../../src/engine/errors.js'
import { canonicalTimestamp, toMirrorRow } from '../../src/engine/record.js'

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
