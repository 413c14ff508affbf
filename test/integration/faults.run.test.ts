import { describe, expect, it, onTestFinished } from 'vitest'
import { eleanConnectionSchema } from '../../src/connectors/elean/index.js'
import { elementumConnectionSchema } from '../../src/connectors/elementum/index.js'
import { createElean } from '../../src/connectors/elean/index.js'
import { createElementum } from '../../src/connectors/elementum/index.js'
import { createPgMirror } from '../../src/db/mirror.store.js'
import type { Connector } from '../../src/engine/ports.js'
import { runStream, type StreamRunOptions, type StreamRunResult } from '../../src/engine/poll.js'
import type { StreamRef } from '../../src/engine/types.js'
import { createHttpClient } from '../../src/http/client.js'
import type { Fault } from '../../src/sim/common/faults.js'
import type { SimServer } from '../../src/sim/common/server.js'
import { startElean } from '../../src/sim/elean/index.js'
import { startElementum } from '../../src/sim/elementum/index.js'
import { createTestDb } from '../support/db.js'
import { simControl } from '../support/sim-control.js'
import { captureLogs } from '../support/logs.js'

/**
 * Run-level fault handling ("Done when": a hang longer than the timeout and a truncated body
 * either recover or fail cleanly with the cursor unchanged and the mirror intact). Each
 * fault hits page 2 of a 3-page read (250 records, pages of 100): page 1 has already been
 * saved when it strikes, so a cursor carried by an early page, or a scan completed despite
 * the failure (deleting what pages 2 and 3 would have shown), would show in the state.
 */

const db = await createTestDb()
const { sql } = db
const mirror = createPgMirror(sql)

const RETRY = { attempts: 3, baseMs: 10, maxMs: 50 }
const TIMEOUT_MS = 300
/** The incremental window reaches back past every seeded record (seeds span 30 days). */
const WIDE_LOOKBACK_MS = 40 * 86_400_000
const SEEDED = 250

interface Harness {
  ref: StreamRef
  server: SimServer
  /** Path prefix of the list/search route of the stream (faults are narrowed to it). */
  route: string
  connector: Connector
  run(over?: Partial<StreamRunOptions>): Promise<StreamRunResult>
  /** Edits one record near the end of the listing (on page 3) in the simulator, as a human. */
  editLate(title: string): Promise<string>
}

let n = 0

const control = simControl

async function elementum(): Promise<Harness> {
  const alias = `faults-${++n}`
  const sim = await startElementum({ port: 0 })
  onTestFinished(() => sim.close())
  await control(sim.server, 'POST', '/seed', { alias, count: SEEDED })
  const config = elementumConnectionSchema.parse({
    kind: 'elementum',
    baseUrl: sim.baseUrl,
    timeoutMs: TIMEOUT_MS,
    auth: { mode: 'oauth2-client-credentials', clientId: sim.credentials.clientId, clientSecret: sim.credentials.clientSecret },
    streams: { [alias]: { recordType: 'tasks', alias } },
  })
  const logs = captureLogs()
  const ref = { connection: `elementum-faults-${n}`, stream: alias }
  const http = createHttpClient(
    { name: ref.connection, baseUrl: config.baseUrl, auth: config.auth, timeoutMs: config.timeoutMs },
    { logger: logs.logger, redactor: logs.redactor, defaultTokenUrl: `${sim.server.url}/oauth/token`, retry: RETRY },
  )
  // children off: the fault's route prefix would also match the per-record child routes
  const connector = createElementum({ name: ref.connection, config, http, logger: logs.logger }, { children: false })
  return {
    ref,
    server: sim.server,
    route: `/v1/tasks/${alias}`,
    connector,
    // incremental, with a window wide enough to list all 250 records on 3 pages: the cursor matters
    run: (over = {}) =>
      runStream(mirror, {
        stream: ref,
        connector,
        mode: 'incremental',
        signal: AbortSignal.timeout(30_000),
        lookbackMs: WIDE_LOOKBACK_MS,
        maxDeleteFraction: 0.1,
        ...over,
      }),
    editLate: async (title) => {
      const ns = sim.store.namespace('tasks', alias)
      const seq = ns?.order[SEEDED - 10]
      const record = seq === undefined ? undefined : ns?.bySeq.get(seq)
      if (!record) throw new Error('no record to edit')
      await control(sim.server, 'POST', `/records/tasks/${alias}/${String(record.data.id)}/edit`, { Title: title })
      return String(record.data.id)
    },
  }
}

async function elean(): Promise<Harness> {
  const sim = await startElean({ port: 0, perMinute: 0 })
  onTestFinished(() => sim.close())
  await control(sim.server, 'POST', '/seed', { project: 'web', count: SEEDED })
  const ref = { connection: `elean-faults-${++n}`, stream: 'web' }
  const config = eleanConnectionSchema.parse({
    kind: 'elean',
    baseUrl: sim.baseUrl,
    timeoutMs: TIMEOUT_MS,
    auth: { mode: 'bearer', token: sim.credentials.apiKey },
    streams: { web: { project: 'web' } },
  })
  const logs = captureLogs()
  const http = createHttpClient(
    { name: ref.connection, baseUrl: config.baseUrl, auth: config.auth, timeoutMs: config.timeoutMs },
    { logger: logs.logger, redactor: logs.redactor, retry: RETRY },
  )
  // comment polling off: the fault's route prefix would also match the comment routes
  const connector = createElean({ name: ref.connection, config, http, logger: logs.logger }, { commentsPerScan: 0 })
  return {
    ref,
    server: sim.server,
    route: '/v1/public/web/tasks',
    connector,
    run: (over = {}) =>
      runStream(mirror, { stream: ref, connector, mode: 'full', signal: AbortSignal.timeout(30_000), lookbackMs: 0, maxDeleteFraction: 0.1, ...over }),
    editLate: async (title) => {
      const { tasks } = (await control(sim.server, 'GET', '/tasks/web')) as { tasks: { id: string; parentId: string | null }[] }
      const top = tasks.filter((t) => t.parentId === null)
      const task = top[top.length - 10]
      if (!task) throw new Error('no task to edit')
      await control(sim.server, 'POST', `/tasks/web/${task.id}/edit`, { title })
      return task.id
    },
  }
}

/** Everything a run may touch for one stream, as text, with each record's `xmin`. */
async function state(ref: StreamRef) {
  const where = sql`where connection = ${ref.connection} and stream = ${ref.stream}`
  return {
    streamState: (await sql`select t::text as row from elsync.stream_state t ${where}`).map((r) => r.row as string),
    records: (await sql`select remote_id, t.xmin::text as xmin, t::text as row from elsync.records t ${where} order by remote_id`).map((r) => ({ ...r })),
    changes: Number((await sql`select count(*)::int as n from elsync.record_changes ${where}`)[0]?.n),
  }
}

const cursorOf = async (ref: StreamRef) =>
  (await sql`select cursor from elsync.stream_state where connection = ${ref.connection} and stream = ${ref.stream}`)[0]?.cursor as
    | Record<string, string>
    | undefined
/** The cursor's one timestamp (Elementum `since`, Elean `lastScanAt`) in epoch ms. */
const cursorTime = (c: Record<string, string> | undefined) => Date.parse(c?.since ?? c?.lastScanAt ?? '')

const CONNECTORS = { elementum, elean } as const
const FAULTS = [
  // the simulator holds the request well past the client's 300 ms timeout
  { name: 'a hang longer than the client timeout', fault: { kind: 'hang', hangMs: 2_000 }, code: 'timeout', cause: /failed \(timeout\b.*Timeout awaiting/ },
  // half of the real body, then the socket is destroyed
  { name: 'a truncated body', fault: { kind: 'truncate' }, code: 'network_error', cause: /failed \(transfer\b/ },
] as const satisfies readonly { name: string; fault: Omit<Fault, 'count' | 'route'>; code: string; cause: RegExp }[]

describe.each(Object.keys(CONNECTORS) as (keyof typeof CONNECTORS)[])('%s run with a fault on page 2', (kind) => {
  it.each(FAULTS)(
    'fails cleanly on $name repeated beyond the retry budget: run failed naming the cause, cursor and mirror untouched',
    async ({ fault, code, cause }) => {
      const h = await CONNECTORS[kind]()
      const first = await h.run()
      expect(first).toMatchObject({ status: 'succeeded', pages: 3, seen: SEEDED })
      const before = await state(h.ref)
      expect(before.records).toHaveLength(SEEDED)
      expect(before.streamState).toHaveLength(1)

      // page 1's request goes through, page 2's fails on every one of the 3 attempts (armed before
      // the run: page 2 is read while page 1 is saved)
      h.server.faults.arm({ ...fault, count: RETRY.attempts, route: h.route, skip: 1 })
      const failed = await h.run()
      expect(failed).toMatchObject({ status: 'failed', pages: 1, deleted: 0, error: { code, message: expect.stringMatching(cause) } })
      // exactly the retry budget was spent on page 2: every armed use was taken, and no 4th attempt went out
      expect(h.server.faults.list()).toEqual([])
      const [row] = await sql`select status, error, pages from elsync.sync_runs where id = ${failed.runId}`
      expect(row?.status).toBe('failed')
      expect(row?.error).toMatch(new RegExp(`^${code}: .*${cause.source}`))
      // the cursor row (cursor, updated_at, last_full_scan_at) and every record row (content and xmin) are as before
      expect(await state(h.ref)).toEqual(before)
    },
  )

  it.each(FAULTS)('recovers from a single $name and finishes the run, moving the cursor', async ({ fault }) => {
    const h = await CONNECTORS[kind]()
    expect(await h.run()).toMatchObject({ status: 'succeeded', pages: 3 })
    const before = await state(h.ref)
    const cursor = await cursorOf(h.ref)
    const edited = await h.editLate('Edited while the API misbehaved')
    h.server.clock.advance(1_000) // the cursor is the server's Date, which has one-second resolution

    h.server.faults.arm({ ...fault, count: 1, route: h.route, skip: 1 })
    const recovered = await h.run()
    expect(h.server.faults.list()).toEqual([]) // the fault did strike
    expect(recovered).toMatchObject({ status: 'succeeded', pages: 3, seen: SEEDED, changed: 1, deleted: 0 })
    expect(recovered.error).toBeUndefined()
    expect(cursorTime(await cursorOf(h.ref))).toBeGreaterThan(cursorTime(cursor))
    // the record edited on page 3 was saved, and nothing else was rewritten
    const after = await state(h.ref)
    expect(after.records.find((r) => r.remote_id === edited)?.row).toContain('Edited while the API misbehaved')
    expect(after.records.filter((r) => r.remote_id !== edited)).toEqual(before.records.filter((r) => r.remote_id !== edited))
    expect(after.changes).toBe(before.changes + 1)
  })
})
