import { describe, expect, it } from 'vitest'
import { createPgMirror } from '../../src/db/mirror.store.js'
import type { RemoteRecord, StreamRef } from '../../src/engine/types.js'
import { createTestDb } from '../support/db.js'
import { deferred } from '../support/deferred.js'

const db = await createTestDb()
const { sql } = db
const task = (id: string, title: string): RemoteRecord => ({ remoteId: id, title, document: { id, title } })

describe('two writers of one new record at once (a poll and a push)', () => {
  it('the one that planned against a stale read writes again, and both versions are in the history', async () => {
    const stream: StreamRef = { connection: 'elean', stream: 'race' }
    const read = deferred()
    const release = deferred()
    let paused = false
    // the poll reads the stored rows (none: the record is new), then waits
    const poll = createPgMirror(sql, {
      afterStep: async (step) => {
        if (step !== 'existing' || paused) return
        paused = true
        read.resolve()
        await release.promise
      },
    })
    const polling = poll.applyPage(stream, { records: [task('t1', 'from the poll')] })
    await read.promise
    // meanwhile the push records what it created, and commits first
    await createPgMirror(sql).applyPage(stream, { records: [task('t1', 'from the push')] }, { source: 'push' })
    release.resolve()
    const applied = await polling
    expect(applied.seen).toBe(1)
    const [record] = await sql<{ title: string; version: number }[]>`
      select title, version from elsync.records where connection = 'elean' and stream = 'race' and remote_id = 't1'`
    expect(record).toEqual({ title: 'from the poll', version: 2 })
    const history = await sql<{ version: number; source: string }[]>`
      select version, source from elsync.record_changes where stream = 'race' and remote_id = 't1' order by version`
    expect(history).toEqual([
      { version: 1, source: 'push' },
      { version: 2, source: 'poll' },
    ])
  })
})
