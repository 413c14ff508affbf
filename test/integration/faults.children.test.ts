import { describe, expect, it, onTestFinished } from 'vitest'
import { eleanConnectionSchema } from '../../src/connectors/elean/elean.config.js'
import { elementumConnectionSchema } from '../../src/connectors/elementum/elementum.config.js'
import { createElean } from '../../src/connectors/elean/index.js'
import { createElementum } from '../../src/connectors/elementum/index.js'
import { createPgMirror } from '../../src/db/mirror.store.js'
import type { Connector } from '../../src/engine/ports.js'
import { runStream } from '../../src/engine/poll.js'
import type { ReadMode, StreamRef } from '../../src/engine/types.js'
import { createHttpClient } from '../../src/http/client.js'
import { startElean } from '../../src/sim/elean/index.js'
import { startElementum } from '../../src/sim/elementum/index.js'
import { createTestDb } from '../support/db.js'
import { simControl } from '../support/sim-control.js'
import { captureLogs, type CapturedLogs } from '../support/logs.js'

/**
 * A child read (one record's comments) that still fails after the retries must not sink
 * its page: the page's records and the cursor are saved, the record is counted stale and
 * keeps its stored children, and a later poll reads them again.
 */

const db = await createTestDb()
const { sql } = db
const mirror = createPgMirror(sql)
const RETRY = { attempts: 3, baseMs: 10, maxMs: 50 }

const control = simControl

const run = (ref: StreamRef, connector: Connector, mode: ReadMode, lookbackMs = 120_000) =>
  runStream(mirror, { stream: ref, connector, mode, signal: AbortSignal.timeout(30_000), lookbackMs, maxDeleteFraction: 0.1 })
const commentsOf = async (ref: StreamRef, parent: string) =>
  (
    await sql`select body, c.xmin::text as xmin from elsync.record_comments c
      where connection = ${ref.connection} and stream = ${ref.stream} and remote_id = ${parent} order by comment_id`
  ).map((r) => ({ ...r }))
const titleOf = async (ref: StreamRef, id: string) =>
  (await sql`select title from elsync.records_current where connection = ${ref.connection} and stream = ${ref.stream} and remote_id = ${id}`)[0]?.title
/** Which records are marked stale, and what sync_status and the run say about it. */
const staleness = async (ref: StreamRef, runId: number | null) => ({
  records: (
    await sql<{ remote_id: string }[]>`select remote_id from elsync.records
      where connection = ${ref.connection} and stream = ${ref.stream} and children_stale_since is not null order by remote_id`
  ).map((r) => r.remote_id),
  status: (
    await sql<{ children_stale: string }[]>`select children_stale from elsync.sync_status where connection = ${ref.connection} and stream = ${ref.stream}`
  )[0]?.children_stale,
  run: (await sql<{ children_stale: number }[]>`select children_stale from elsync.sync_runs where id = ${runId}`)[0]?.children_stale,
})
const cursorOf = async (ref: StreamRef) =>
  (await sql`select cursor from elsync.stream_state where connection = ${ref.connection} and stream = ${ref.stream}`)[0]?.cursor as Record<string, string>

describe('a child read failing after its retries', () => {
  it('elementum: saves the page and the cursor, keeps the record stored comments, counts it stale, and reads it again next poll', async () => {
    const sim = await startElementum({ port: 0 })
    onTestFinished(() => sim.close())
    const alias = 'stale'
    await control(sim.server, 'POST', '/seed', { alias, count: 20 })
    await control(sim.server, 'POST', `/records/tasks/${alias}/TSK-5/comments`, { contents: 'first comment' })
    const ref = { connection: 'elementum-stale', stream: alias }
    const config = elementumConnectionSchema.parse({
      kind: 'elementum',
      baseUrl: sim.baseUrl,
      auth: { mode: 'oauth2-client-credentials', clientId: sim.credentials.clientId, clientSecret: sim.credentials.clientSecret },
      streams: { [alias]: { recordType: 'tasks', alias } },
    })
    const logs = captureLogs()
    const http = createHttpClient(
      { name: ref.connection, baseUrl: config.baseUrl, auth: config.auth },
      { logger: logs.logger, redactor: logs.redactor, retry: RETRY, defaultTokenUrl: `${sim.server.url}/oauth/token` },
    )
    const connector = createElementum({ name: ref.connection, config, http, logger: logs.logger })
    expect(await run(ref, connector, 'full')).toMatchObject({ status: 'succeeded', seen: 20, childrenStale: 0 })
    const stored = await commentsOf(ref, 'TSK-5')
    expect(stored.map((c) => c.body)).toEqual(['first comment'])
    const before = await cursorOf(ref)

    for (const id of ['TSK-5', 'TSK-6']) await control(sim.server, 'POST', `/records/tasks/${alias}/${id}/edit`, { Title: `${id} edited` })
    await control(sim.server, 'POST', `/records/tasks/${alias}/TSK-5/comments`, { contents: 'second comment' })
    const stamp = String(sim.store.find('tasks', alias, 'TSK-5')?.data['Updated on'])
    sim.server.clock.advance(2_000) // the server's Date (the next cursor) is now clearly after TSK-5's stamp
    sim.server.faults.arm({ kind: 'status', status: 500, count: RETRY.attempts, route: `/v1/tasks/${alias}/TSK-5/comment` })
    const partial = await run(ref, connector, 'incremental')
    expect(sim.server.faults.list()).toEqual([]) // every attempt was refused
    expect(partial).toMatchObject({ status: 'succeeded', seen: 2, changed: 2, childrenStale: 1 })
    expect(await titleOf(ref, 'TSK-5')).toBe('TSK-5 edited')
    expect(await titleOf(ref, 'TSK-6')).toBe('TSK-6 edited')
    expect(await commentsOf(ref, 'TSK-5')).toEqual(stored) // not replaced, not even rewritten
    // the cursor moved, but only up to the stale record's stamp: the next window reads it again
    expect(await cursorOf(ref)).toEqual({ since: stamp })
    expect(Date.parse(stamp)).toBeGreaterThan(Date.parse(before.since ?? ''))
    expect(logs.text()).toMatch(/"record":"TSK-5".*"msg":"children not read/)
    expect(await staleness(ref, partial.runId)).toEqual({ records: ['TSK-5'], status: '1', run: 1 })

    const healed = await run(ref, connector, 'incremental')
    expect(healed).toMatchObject({ status: 'succeeded', childrenStale: 0 })
    expect(await staleness(ref, healed.runId)).toEqual({ records: [], status: '0', run: 0 })
    expect((await commentsOf(ref, 'TSK-5')).map((c) => c.body).sort()).toEqual(['first comment', 'second comment'])
    expect(Date.parse((await cursorOf(ref)).since ?? '')).toBeGreaterThan(Date.parse(stamp))
  })

  it.each(['one-shot', 'daemon'] as const)(
    'elean (%s): saves the page, keeps the task stored comments, counts it stale, and reads them on the next scan',
    async (lifetime) => {
      const sim = await startElean({ port: 0, perMinute: 0 })
      onTestFinished(() => sim.close())
      await control(sim.server, 'POST', '/seed', { project: 'web', count: 30 })
      const ref = { connection: `elean-stale-${lifetime}`, stream: 'web' }
      const config = eleanConnectionSchema.parse({
        kind: 'elean',
        baseUrl: sim.baseUrl,
        auth: { mode: 'bearer', token: sim.credentials.apiKey },
        streams: { web: { project: 'web' } },
      })
      let logs: CapturedLogs = captureLogs()
      const build = () => {
        logs = captureLogs()
        const http = createHttpClient(
          { name: ref.connection, baseUrl: config.baseUrl, auth: config.auth },
          { logger: logs.logger, redactor: logs.redactor, retry: RETRY },
        )
        // two comment reads per scan: a task is read only when it changed or its round-robin turn comes
        return createElean({ name: ref.connection, config, http, logger: logs.logger }, { commentsPerScan: 2 })
      }
      const daemon = build()
      // a one-shot `elsync sync` builds its connector afresh: nothing is remembered between runs but the cursor
      const connector = () => (lifetime === 'daemon' ? daemon : build())
      expect(await run(ref, connector(), 'full', 0)).toMatchObject({ status: 'succeeded', seen: 30 })

      const tasks = ((await control(sim.server, 'GET', '/tasks/web')).tasks as any[]).filter((t) => t.parentId === null)
      const target = tasks[20]
      await control(sim.server, 'POST', `/tasks/web/${target.id}/edit`, { title: 'Edited with a comment' })
      await control(sim.server, 'POST', `/tasks/web/${target.id}/comments`, { content: 'Seen by nobody yet' })
      sim.server.clock.advance(2_000) // the next scan's server time is clearly after the edit
      sim.server.faults.arm({ kind: 'status', status: 500, count: RETRY.attempts, route: `/v1/public/web/tasks/${target.id}/comments` })
      const partial = await run(ref, connector(), 'full', 0)
      expect(sim.server.faults.list()).toEqual([])
      expect(partial).toMatchObject({ status: 'succeeded', seen: 30, changed: 1, childrenStale: 1 })
      expect(await titleOf(ref, target.id)).toBe('Edited with a comment')
      expect(await commentsOf(ref, target.id)).toEqual([])
      expect(logs.text()).toMatch(/"msg":"comments not read/)
      expect(await staleness(ref, partial.runId)).toEqual({ records: [target.id], status: '1', run: 1 })

      const healed = await run(ref, connector(), 'full', 0)
      expect(healed).toMatchObject({ status: 'succeeded', childrenStale: 0 })
      expect(await staleness(ref, healed.runId)).toEqual({ records: [], status: '0', run: 0 })
      expect((await commentsOf(ref, target.id)).map((c) => c.body)).toEqual(['Seen by nobody yet'])
    },
  )
})
