import { beforeEach, describe, expect, it } from 'vitest'
import { createDb } from '../../src/db/client.js'
import { createPgMirror, selectStored } from '../../src/db/mirror.store.js'
import type { RemoteRecord, StreamRef } from '../../src/engine/types.js'
import { createTestDb } from '../support/db.js'

/**
 * Issue 13: the read of a page's stored rows must cost the same at the end of a first
 * backfill as at the start. Its cost is decided by the plan, so the tests read plans,
 * never clocks (the per-page timing is bench figure `backfill_page_cost`).
 */
const db = await createTestDb()
const { sql } = db
// autovacuum's ANALYZE would invalidate cached plans mid-test and hide what a long backfill sees
await sql`alter table elsync.records set (autovacuum_enabled = false)`

const TEXT_ARRAY = 1009

const task = (id: string): RemoteRecord => ({ remoteId: id, title: `Task ${id}`, document: { id } })

async function fill(stream: StreamRef, n: number): Promise<void> {
  await sql`insert into elsync.records (connection, stream, remote_id, snapshot, document, content_hash, version)
    select ${stream.connection}, ${stream.stream}, 'r' || g, '{}', '{}', 'h', 1 from generate_series(1, ${n}::int) g`
}

describe('reading the stored rows of a page', () => {
  // each test starts from an empty mirror, statistics included
  beforeEach(async () => {
    await sql`truncate elsync.records cascade`
  })

  it('looks each id up by the full natural key even in a generic plan made while the table was empty', async () => {
    const stream = { connection: 'elean', stream: 'generic' }
    const { string, types } = await selectStored(sql, stream, ['r1']).describe()
    // the statement's parameters in its own order: the text array is the ids, the texts connection then stream
    const texts = ["'elean'", "'generic'"]
    const args = types.map((oid) => (oid === TEXT_ARRAY ? "'{r1,r2}'" : texts.shift())).join(', ')
    const conn = await sql.reserve()
    try {
      await conn`set plan_cache_mode = force_generic_plan`
      await conn.unsafe(`prepare stored_rows as ${string}`)
      const explain = async () => (await conn.unsafe(`explain execute stored_rows(${args})`)).map((r) => r['QUERY PLAN']).join('\n')
      const onEmpty = await explain()
      await fill(stream, 30_000)
      // the plan cached on the empty table is what this execution uses
      const afterFill = await explain()
      for (const plan of [onEmpty, afterFill]) {
        expect(plan).toMatch(/Index Cond: .*remote_id = /)
        expect(plan).not.toMatch(/Filter: .*remote_id/)
        expect(plan).not.toMatch(/Seq Scan on records/)
      }
    } finally {
      await conn.unsafe('deallocate all').catch(() => {})
      conn.release()
    }
  })

  it('never reuses a plan cached while the table was tiny: every page is planned for the table it reads', async () => {
    const stream = { connection: 'elean', stream: 'tiny' }
    // one connection, so every page runs on the session whose plan cache we inspect
    const single = createDb(db.url, { max: 1 })
    try {
      const mirror = createPgMirror(single.sql)
      const page = { records: ['a', 'b', 'c'].map(task) }
      await mirror.applyPage(stream, page)
      await sql`analyze elsync.records`
      // Postgres switches a prepared statement to its cached generic plan after five custom ones
      for (let i = 0; i < 8; i++) await mirror.applyPage(stream, page)
      const { string } = await selectStored(sql, stream, ['a']).describe()
      const plans = await single.sql<{ generic_plans: number; custom_plans: number }[]>`
        select generic_plans::int, custom_plans::int from pg_prepared_statements where statement = ${string}`
      expect(plans).toHaveLength(1)
      expect(plans[0]).toEqual({ generic_plans: 0, custom_plans: 9 })
      // the page's write upserts what it is given by the unique key, whatever the table's size:
      // it keeps the cached plan Postgres settles on, instead of being planned again every page
      const writes = await single.sql<{ generic_plans: number }[]>`
        select generic_plans::int from pg_prepared_statements
        where statement like '%jsonb_to_recordset%' and statement not like '%pg_prepared_statements%'`
      expect(writes.reduce((n, w) => n + w.generic_plans, 0)).toBeGreaterThan(0)
    } finally {
      await single.close()
    }
  })
})
