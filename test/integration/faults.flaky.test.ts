import { describe, expect, it, onTestFinished } from 'vitest'
import { eleanConnectionSchema } from '../../src/connectors/elean/elean.config.js'
import { elementumConnectionSchema } from '../../src/connectors/elementum/elementum.config.js'
import { createElean } from '../../src/connectors/elean/index.js'
import { createElementum } from '../../src/connectors/elementum/index.js'
import { createConnector } from '../../src/connectors/index.js'
import { createPgMirror } from '../../src/db/mirror.store.js'
import { runStream, type StreamRunResult } from '../../src/engine/poll.js'
import { syncPass } from '../../src/engine/sync.js'
import type { ReadMode, StreamRef } from '../../src/engine/types.js'
import { createHttpClient } from '../../src/http/client.js'
import type { SimServer } from '../../src/sim/common/server.js'
import { startElean } from '../../src/sim/elean/index.js'
import { startElementum } from '../../src/sim/elementum/index.js'
import { createTestDb } from '../support/db.js'
import { simControl } from '../support/sim-control.js'
import { captureLogs } from '../support/logs.js'

/**
 * A flaky API: one request in N answers 500 ("try again later"), child routes included.
 * Three one-shot syncs in a row (a fresh connector each, as `elsync sync` builds) must
 * each succeed, mirror every record and comment, and the quiet last one must write no
 * history. Before 500 was retried, the first comment request to be hit sank its page, and
 * the Elean mirror stayed empty run after run.
 */

const db = await createTestDb()
const { sql } = db
const mirror = createPgMirror(sql)
const RETRY = { attempts: 3, baseMs: 10, maxMs: 50 }

const control = simControl

const historyRows = async (ref: StreamRef) =>
  Number((await sql`select count(*)::int as n from elsync.record_changes where connection = ${ref.connection} and stream = ${ref.stream}`)[0]?.n)
const mirrored = async (ref: StreamRef) => ({
  titles: (await sql`select remote_id, title from elsync.records_current where connection = ${ref.connection} and stream = ${ref.stream}`)
    .map((r) => `${r.remote_id} ${r.title}`)
    .sort(),
  comments: (await sql`select remote_id, body from elsync.comments where connection = ${ref.connection} and stream = ${ref.stream}`)
    .map((r) => `${r.remote_id} ${r.body}`)
    .sort(),
})
/** Injected 500s the simulator served on routes matching `pattern`. */
const struck = (server: SimServer, pattern: RegExp) =>
  Object.entries(server.stats().byRoute)
    .filter(([route]) => pattern.test(route))
    .reduce((n, [, byStatus]) => n + (byStatus['500'] ?? 0), 0)

/** Runs one sync with a connector built for it alone, as a one-shot `elsync sync` does. */
async function oneShot(ref: StreamRef, mode: ReadMode, build: () => Parameters<typeof runStream>[1]['connector']): Promise<StreamRunResult> {
  return runStream(mirror, { stream: ref, connector: build(), mode, signal: AbortSignal.timeout(50_000), lookbackMs: 120_000, maxDeleteFraction: 0.1 })
}

describe('a flaky API answering 500 to one request in N, child routes included', () => {
  it('elean (1 in 13): three syncs in a row mirror every task and comment; the quiet third writes no history', async () => {
    const sim = await startElean({ port: 0, perMinute: 0 })
    onTestFinished(() => sim.close())
    await control(sim.server, 'POST', '/seed', { project: 'web', count: 30 })
    const dump = async () => ((await control(sim.server, 'GET', '/tasks/web')).tasks as any[]).filter((t) => t.parentId === null)
    for (const t of (await dump()).slice(0, 12)) await control(sim.server, 'POST', `/tasks/web/${t.id}/comments`, { content: `note on ${t.title}` })
    // a 429 burst first (two in a row, each asking for a second's pause), then 500 on one request in 13
    sim.server.faults.arm({ kind: 'rate-limit', retryAfterSeconds: 1, count: 2 })
    sim.server.faults.arm({ kind: 'status', status: 500, every: 13, count: 1_000 })
    const ref = { connection: 'elean-flaky', stream: 'web' }
    const config = eleanConnectionSchema.parse({
      kind: 'elean',
      baseUrl: sim.baseUrl,
      auth: { mode: 'bearer', token: sim.credentials.apiKey },
      streams: { web: { project: 'web' } },
    })
    const build = () => {
      const logs = captureLogs()
      const http = createHttpClient(
        { name: ref.connection, baseUrl: config.baseUrl, auth: config.auth },
        { logger: logs.logger, redactor: logs.redactor, retry: RETRY },
      )
      // every task's comments on every scan: each scan makes 31+ requests, so the fault strikes comment reads
      return createElean({ name: ref.connection, config, http, logger: logs.logger }, { commentsPerScan: 30 })
    }

    const results: StreamRunResult[] = []
    const history: number[] = []
    for (let i = 0; i < 3; i++) {
      results.push(await oneShot(ref, 'full', build))
      history.push(await historyRows(ref))
    }
    expect(results.map((r) => [r.status, r.error?.message])).toEqual(Array(3).fill(['succeeded', undefined]))
    expect(struck(sim.server, /comments/)).toBeGreaterThan(0)
    const limited = Object.values(sim.server.stats().byRoute).reduce((n, byStatus) => n + (byStatus['429'] ?? 0), 0)
    expect(limited).toBe(2)
    const tasks = await dump()
    expect(await mirrored(ref)).toEqual({
      titles: tasks.map((t) => `${t.id} ${t.title}`).sort(),
      comments: tasks.flatMap((t) => (t.comments as { content: string }[]).map((c) => `${t.id} ${c.content}`)).sort(),
    })
    expect(results[2]).toMatchObject({ seen: 30, changed: 0, childrenStale: 0 })
    expect(history[2]).toBe(history[1])
  })

  it('elementum (1 in 9): a full sync and two incremental ones mirror every record and comment; the quiet third writes no history', async () => {
    const sim = await startElementum({ port: 0 })
    onTestFinished(() => sim.close())
    const alias = 'flaky'
    await control(sim.server, 'POST', '/seed', { alias, count: 40 })
    sim.server.faults.arm({ kind: 'status', status: 500, every: 9, count: 10_000 })
    const ref = { connection: 'elementum-flaky', stream: alias }
    const config = elementumConnectionSchema.parse({
      kind: 'elementum',
      baseUrl: sim.baseUrl,
      auth: { mode: 'oauth2-client-credentials', clientId: sim.credentials.clientId, clientSecret: sim.credentials.clientSecret },
      streams: { [alias]: { recordType: 'tasks', alias } },
    })
    const build = () => {
      const logs = captureLogs()
      const http = createHttpClient(
        { name: ref.connection, baseUrl: config.baseUrl, auth: config.auth },
        { logger: logs.logger, redactor: logs.redactor, retry: RETRY, defaultTokenUrl: `${sim.server.url}/oauth/token` },
      )
      return createElementum({ name: ref.connection, config, http, logger: logs.logger })
    }

    const results: StreamRunResult[] = [await oneShot(ref, 'full', build)]
    for (const id of ['TSK-3', 'TSK-17', 'TSK-38']) {
      await control(sim.server, 'POST', `/records/tasks/${alias}/${id}/edit`, { Title: `${id} edited` })
      await control(sim.server, 'POST', `/records/tasks/${alias}/${id}/comments`, { contents: `comment on ${id}` })
    }
    results.push(await oneShot(ref, 'incremental', build))
    const quietBefore = await historyRows(ref)
    results.push(await oneShot(ref, 'incremental', build))

    expect(results.map((r) => [r.status, r.error?.message])).toEqual(Array(3).fill(['succeeded', undefined]))
    expect(struck(sim.server, /\/(comment|attachments|related-items)$/)).toBeGreaterThan(0)
    const records = [...(sim.store.namespace('tasks', alias)?.bySeq.values() ?? [])]
    expect(await mirrored(ref)).toEqual({
      titles: records.map((r) => `${r.data.id} ${r.data.Title}`).sort(),
      comments: records.flatMap((r) => r.comments.map((c) => `${r.data.id} ${c.contents}`)).sort(),
    })
    expect(results[1]).toMatchObject({ changed: 3, childrenStale: 0 })
    expect(await historyRows(ref)).toBe(quietBefore)
  })

  it('a Retry-After of an hour fails the stream at once with rate_limited, saying when the API accepts requests again', async () => {
    const sim = await startElean({ port: 0, perMinute: 0 })
    onTestFinished(() => sim.close())
    await control(sim.server, 'POST', '/seed', { project: 'web', count: 5 })
    sim.server.faults.arm({ kind: 'rate-limit', retryAfterSeconds: 3600, count: 1 })
    const config = eleanConnectionSchema.parse({
      kind: 'elean',
      baseUrl: sim.baseUrl,
      auth: { mode: 'bearer', token: sim.credentials.apiKey },
      maxRetryAfterSeconds: 5,
      streams: { web: { project: 'web' }, other: { project: 'web' } },
    })
    const logs = captureLogs()
    const connector = createConnector('elean-limited', config, { logger: logs.logger, redactor: logs.redactor })
    const streams = ['web', 'other'].map((stream) => ({
      stream: { connection: 'elean-limited', stream },
      connector,
      lookbackSeconds: 120,
      maxDeleteFraction: 0.1,
    }))
    const started = Date.now()
    const results = await syncPass(mirror, streams, { mode: 'full', signal: AbortSignal.timeout(50_000) })
    // far below the hour asked for, and below the 5 s cap too: nothing waited
    expect(Date.now() - started).toBeLessThan(5_000)
    const retryAt = started + 3_600_000
    for (const r of results) {
      expect(r).toMatchObject({ status: 'failed', pages: 0, error: { code: 'rate_limited' } })
      const at = /accepts requests again at (\S+) \(in (\d+) s\)/.exec(r.error?.message ?? '')
      expect(Math.abs(Date.parse(at?.[1] ?? '') - retryAt)).toBeLessThan(5_000)
      expect(Number(at?.[2])).toBeGreaterThan(3_590)
    }
    expect(results[0]?.error?.message).toMatch(/answered 429 with Retry-After 3600 s, more than maxRetryAfterSeconds \(5 s\)/)
    // the second stream sent nothing: the server's one 429 holds the whole connection
    expect(results[1]?.error?.message).toMatch(/not sent: earlier/)
    expect(sim.server.stats().total).toBe(1)
  })
})
