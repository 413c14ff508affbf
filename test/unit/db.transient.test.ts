import { describe, expect, it } from 'vitest'
import { DatabaseUnavailableError, isTransientDbError, withDbRetry } from '../../src/db/transient.js'

const closed = () => Object.assign(new Error('write CONNECTION_CLOSED 127.0.0.1:5432'), { code: 'CONNECTION_CLOSED' })

describe('transient database errors', () => {
  it('recognises dropped connections, shutdowns and serialization failures, also as a cause', () => {
    expect(isTransientDbError(closed())).toBe(true)
    expect(isTransientDbError({ code: '57P01' })).toBe(true)
    expect(isTransientDbError(new Error('wrapped', { cause: { code: '40001' } }))).toBe(true)
    expect(isTransientDbError({ code: '23505' })).toBe(false)
    // two writers raced for a record's first history version: run again, it plans against the winner's row
    expect(isTransientDbError({ code: '23505', constraint_name: 'record_changes_record_version' })).toBe(true)
    expect(isTransientDbError({ code: '23505', constraint_name: 'records_pkey' })).toBe(false)
    expect(isTransientDbError(new Error('syntax'))).toBe(false)
  })

  it('runs the transaction again after a dropped connection and returns its result', async () => {
    let calls = 0
    const retries: number[] = []
    const result = await withDbRetry(
      async () => {
        calls += 1
        if (calls < 3) throw closed()
        return 'saved'
      },
      { onRetry: (_e, attempt) => retries.push(attempt) },
    )
    expect(result).toBe('saved')
    expect(calls).toBe(3)
    expect(retries).toEqual([1, 2])
  })

  it('does not repeat a transaction that failed for another reason', async () => {
    let calls = 0
    const unique = Object.assign(new Error('duplicate key'), { code: '23505' })
    await expect(
      withDbRetry(async () => {
        calls += 1
        throw unique
      }),
    ).rejects.toBe(unique)
    expect(calls).toBe(1)
  })

  it('gives up with database_unavailable when the database stays away past the bound', async () => {
    let calls = 0
    const err = await withDbRetry(
      async () => {
        calls += 1
        throw closed()
      },
      { maxMs: 250, what: 'saving page 3 of elean/web' },
    ).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DatabaseUnavailableError)
    expect((err as DatabaseUnavailableError).code).toBe('database_unavailable')
    expect((err as Error).message).toContain('saving page 3 of elean/web')
    expect(calls).toBeGreaterThan(1)
  })
})
