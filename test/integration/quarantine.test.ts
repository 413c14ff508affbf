import { describe, expect, it } from 'vitest'
import { summaryLine } from '../../src/app.js'
import { ID_COLLISION } from '../../src/connectors/shared/tolerant.js'
import { createRest, restConnectionSchema } from '../../src/connectors/rest/index.js'
import { createPgMirror } from '../../src/db/mirror.store.js'
import { runStream } from '../../src/engine/poll.js'
import { createHttpClient } from '../../src/http/client.js'
import { createTestDb } from '../support/db.js'
import { captureLogs } from '../support/logs.js'
import { serve } from '../support/tiny-api.js'

/**
 * One bad item never fails its stream: items that cannot be mirrored (nested 5 000 deep, no
 * id, ids colliding once normalized) are quarantined with the reason, timestamps out of range
 * become null, every good item is mirrored, and deletions are still found by full scans.
 */

const db = await createTestDb()
const { sql } = db
const mirror = createPgMirror(sql)
const SECRET = 'sekrit-token-0123456789'

/** An item's JSON text; a 5 000-deep one is written by hand, since JSON.stringify overflows on it. */
const deep = (id: string, levels: number) => `{"id":${JSON.stringify(id)},"name":"Deep","tree":${'['.repeat(levels)}${']'.repeat(levels)}}`
const item = (v: unknown) => JSON.stringify(v)
const good = (n: number) => item({ id: `g-${n}`, name: `Good ${n}`, updated_at: `2026-01-0${1 + (n % 9)}T00:00:00.000Z` })

/** A list API paged by `page`/`size`, ending on an empty page; `source` holds each item's JSON text and may change between runs. */
async function listApi(source: string[]) {
  return serve((url) => {
    const page = Number(url.searchParams.get('page') ?? 1)
    const size = Number(url.searchParams.get('size') ?? 5)
    return { raw: `[${source.slice((page - 1) * size, page * size).join(',')}]` }
  })
}

let n = 0
async function sync(baseUrl: string) {
  const connection = `quarantine-${++n}`
  return { connection, run: () => runOnce(connection, baseUrl) }
}

async function runOnce(connection: string, baseUrl: string) {
  const config = restConnectionSchema.parse({
    kind: 'rest',
    baseUrl,
    auth: { mode: 'none' },
    streams: { things: { path: '/things', updatedField: 'updated_at', pagination: { style: 'page', sizeParam: 'size', pageSize: 5 } } },
  })
  const logs = captureLogs([SECRET])
  const http = createHttpClient({ name: connection, baseUrl: config.baseUrl, auth: config.auth }, { logger: logs.logger, redactor: logs.redactor })
  const connector = createRest({ name: connection, config, http, logger: logs.logger })
  return runStream(mirror, {
    stream: { connection, stream: 'things' },
    connector,
    mode: 'full',
    signal: AbortSignal.timeout(30_000),
    lookbackMs: 0,
    maxDeleteFraction: 0.5,
    redact: logs.redactor.redact,
  })
}

const live = async (connection: string) =>
  sql<{ remote_id: string; title: string | null; remote_updated_at: string | null }[]>`
    select remote_id, title, remote_updated_at from elsync.records_current where connection = ${connection} order by remote_id`
const quarantined = async (connection: string) =>
  sql<{ remote_id: string | null; reason: string; excerpt: string | null; occurrences: number; first_seen_at: string; last_seen_at: string }[]>`
    select remote_id, reason, excerpt, occurrences, first_seen_at, last_seen_at from elsync.quarantined_records
    where connection = ${connection} order by remote_id nulls first, reason`
const status = async (connection: string) =>
  (await sql<{ quarantined: string; live_records: string }[]>`select quarantined, live_records from elsync.sync_status where connection = ${connection}`)[0]

describe('bad items in a stream', () => {
  it('quarantines items nested 5 000 deep, without an id or with colliding ids, and mirrors every good item', async () => {
    const source = [
      good(1),
      deep('deep', 5_000),
      good(2),
      item({ id: 'big-ts', name: 'Far future', updated_at: 1e20 }),
      good(3),
      item({ name: 'Nameless', token: SECRET }),
      good(4),
      item({ id: 'neg-ts', name: 'Far past', updated_at: -1e15 }),
      item({ id: 1, name: 'One' }),
      item({ id: '1', name: 'One again' }),
      ...[5, 6, 7, 8, 9, 10].map(good),
    ]
    const api = await listApi(source)
    const { connection, run } = await sync(api.baseUrl)

    const result = await run()
    expect(result).toMatchObject({ status: 'succeeded', mode: 'full', seen: 12, quarantined: 3 })
    expect(summaryLine(result)).toMatch(/^ok .*, 3 quarantined\)$/)
    const rows = await live(connection)
    expect(rows.map((r) => r.remote_id)).toEqual(['big-ts', ...['g-1', 'g-10', 'g-2', 'g-3', 'g-4', 'g-5', 'g-6', 'g-7', 'g-8', 'g-9'], 'neg-ts'])
    // a timestamp out of range is null, like an unreadable date string
    expect(rows.filter((r) => r.remote_id.endsWith('-ts'))).toEqual([
      { remote_id: 'big-ts', title: 'Far future', remote_updated_at: null },
      { remote_id: 'neg-ts', title: 'Far past', remote_updated_at: null },
    ])

    const q = await quarantined(connection)
    expect(q.map(({ remote_id, reason, occurrences }) => ({ remote_id, reason, occurrences }))).toEqual([
      { remote_id: null, reason: expect.stringMatching(/item without an id at "id"/), occurrences: 1 },
      { remote_id: '1', reason: ID_COLLISION, occurrences: 1 },
      { remote_id: 'deep', reason: 'nested deeper than 256 levels', occurrences: 1 },
    ])
    const [nameless, collision, tooDeep] = q
    expect(nameless?.excerpt).toContain('"name":"Nameless"')
    expect(nameless?.excerpt).toContain('[REDACTED]')
    expect(JSON.stringify(q)).not.toContain(SECRET)
    expect(collision?.excerpt).toMatch(/"id":1,"name":"One"}\n.*"id":"1","name":"One again"/)
    expect(tooDeep?.excerpt).toMatch(/^\{"id":"deep","name":"Deep","tree":\[\[\[/)
    expect(tooDeep?.excerpt?.length).toBeLessThanOrEqual(500)

    const [runRow] = await sql`select status, quarantined from elsync.sync_runs where id = ${result.runId}`
    expect(runRow).toEqual({ status: 'succeeded', quarantined: 3 })
    expect(await status(connection)).toEqual({ quarantined: '3', live_records: '12' })
  })

  it('on the next complete scan deletes good items gone from the source, and releases items fixed or removed there', async () => {
    const source = [
      good(1),
      deep('deep', 5_000),
      good(2),
      good(3),
      item({ name: 'Nameless' }),
      item({ id: 1, name: 'One' }),
      item({ id: '1', name: 'One again' }),
    ]
    const api = await listApi(source)
    const { connection, run } = await sync(api.baseUrl)
    expect(await run()).toMatchObject({ status: 'succeeded', seen: 3, quarantined: 3 })
    const before = await quarantined(connection)

    source.splice(0, source.length, good(1), deep('deep', 3), item({ id: 1, name: 'One' }), item({ id: '1', name: 'One again' }))
    const again = await run()
    expect(again).toMatchObject({ status: 'succeeded', seen: 2, deleted: 2, quarantined: 1 })
    expect((await live(connection)).map((r) => r.remote_id)).toEqual(['deep', 'g-1'])
    const after = await quarantined(connection)
    expect(after).toEqual([{ ...before[1], occurrences: 2, last_seen_at: expect.any(String) }])
    expect(String(after[0]?.last_seen_at) > String(before[1]?.last_seen_at)).toBe(true)
    expect(await status(connection)).toEqual({ quarantined: '1', live_records: '2' })
  })

  it('keeps the stored record of an id that starts colliding, and a full scan does not delete it', async () => {
    const source = [good(1), item({ id: 1, name: 'One' })]
    const api = await listApi(source)
    const { connection, run } = await sync(api.baseUrl)
    expect(await run()).toMatchObject({ status: 'succeeded', seen: 2, quarantined: 0 })

    source.push(item({ id: '1', name: 'One again' }))
    expect(await run()).toMatchObject({ status: 'succeeded', seen: 1, deleted: 0, quarantined: 1 })
    expect(await live(connection)).toContainEqual({ remote_id: '1', title: 'One', remote_updated_at: null })

    source.pop()
    expect(await run()).toMatchObject({ status: 'succeeded', seen: 2, deleted: 0, quarantined: 0 })
    expect(await quarantined(connection)).toEqual([])
  })
})

describe('a child the mirror cannot store', () => {
  const ref = { connection: 'children-deep', stream: 'tasks' }
  const rec = (id: string) => ({ remoteId: id, title: id, document: { id } })
  const comment = (parent: string, id: string, document: unknown = { id }) => ({
    parentRemoteId: parent,
    commentId: id,
    body: `${id} on ${parent}`,
    author: 'Ada',
    createdAt: null,
    document,
  })
  const commentsOf = async (parent: string) =>
    (await sql<{ comment_id: string }[]>`select comment_id from elsync.comments where connection = ${ref.connection} and remote_id = ${parent} order by 1`).map(
      (r) => r.comment_id,
    )
  const stale = async () =>
    (await sql<{ remote_id: string }[]>`select remote_id from elsync.records where connection = ${ref.connection} and children_stale_since is not null`).map(
      (r) => r.remote_id,
    )

  it('quarantines it under its parent, whose stored children stay and which is marked stale until its children are stored', async () => {
    let tree: unknown = []
    for (let i = 0; i < 5_000; i++) tree = [tree]
    const page = (comments: ReturnType<typeof comment>[]) => ({ records: [rec('A'), rec('B')], comments: { parents: ['A', 'B'], items: comments } })
    await mirror.applyPage(ref, page([comment('A', 'a1'), comment('B', 'b1')]))

    const bad = await mirror.applyPage(ref, page([comment('A', 'a2', { id: 'a2', tree }), comment('B', 'b1'), comment('B', 'b2')]))
    expect(bad).toMatchObject({ seen: 2, quarantined: 1, childrenStale: 1 })
    expect(await commentsOf('A')).toEqual(['a1'])
    expect(await commentsOf('B')).toEqual(['b1', 'b2'])
    expect(await stale()).toEqual(['A'])
    const again = await mirror.applyPage(ref, page([comment('A', 'a2', { id: 'a2', tree }), comment('B', 'b1'), comment('B', 'b2')]))
    expect(again).toMatchObject({ quarantined: 1, childrenStale: 1 })
    expect(await quarantined(ref.connection)).toEqual([
      expect.objectContaining({
        remote_id: 'A',
        reason: 'comment a2: nested deeper than 256 levels',
        occurrences: 2,
        excerpt: expect.stringMatching(/^\{"author":"Ada"/),
      }),
    ])

    const healed = await mirror.applyPage(ref, page([comment('A', 'a2'), comment('B', 'b1'), comment('B', 'b2')]))
    expect(healed).toMatchObject({ quarantined: 0, childrenStale: 0 })
    expect(await commentsOf('A')).toEqual(['a2'])
    expect(await stale()).toEqual([])
    expect(await quarantined(ref.connection)).toEqual([])
  })
})
