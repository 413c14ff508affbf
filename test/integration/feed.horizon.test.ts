import postgres from 'postgres'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { readChanges } from '../../src/db/feed.store.js'
import { createPgMirror } from '../../src/db/mirror.store.js'
import type { StreamRef } from '../../src/engine/types.js'
import { createTestDb } from '../support/db.js'

/**
 * The feed's horizon: a writing transaction of another database on the same server (another
 * application, another test file's CREATE DATABASE) must not hold this database's feed back,
 * or `elsync sync` reconciles nothing of what its own poll just wrote. One of this database
 * still does, so that no change committing late is ever skipped.
 */
const db = await createTestDb()
const mirror = createPgMirror(db.sql)
const elsewhere = postgres(inject('pgAdminUrl'), { max: 1, onnotice: () => {} })
afterAll(() => elsewhere.end({ timeout: 5 }))

const stream = (name: string): StreamRef => ({ connection: 'elean', stream: name })
const page = (id: string) => ({ records: [{ remoteId: id, title: id, document: { id } }] })

/** Runs `fn` while a transaction that has written (it holds an xid) stays open on `sql`. */
async function whileWriting<T>(sql: postgres.Sql, fn: () => Promise<T>): Promise<T> {
  let result: T | undefined
  await sql.begin(async (tx) => {
    await tx`select pg_current_xact_id()`
    result = await fn()
  })
  return result as T
}

describe('the change feed horizon', () => {
  it("reads what is committed while another database's transaction is open", async () => {
    const s = stream('other-db')
    const changes = await whileWriting(elsewhere, async () => {
      await mirror.applyPage(s, page('a1'))
      return (await readChanges(db.sql, { after: null, limit: 10, streams: [s] })).changes
    })
    expect(changes.map((c) => c.remoteId)).toEqual(['a1'])
  })

  it('waits for an open transaction of this database, then reads what committed meanwhile', async () => {
    const s = stream('same-db')
    const early = await whileWriting(db.sql, async () => {
      await mirror.applyPage(s, page('b1'))
      return (await readChanges(db.sql, { after: null, limit: 10, streams: [s] })).changes
    })
    expect(early).toEqual([])
    const later = await readChanges(db.sql, { after: null, limit: 10, streams: [s] })
    expect(later.changes.map((c) => c.remoteId)).toEqual(['b1'])
  })
})
