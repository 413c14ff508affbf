import { describe, expect, it, onTestFinished } from 'vitest'
import { elementumConnectionSchema } from '../../src/connectors/elementum/index.js'
import { createElementum, type ElementumOptions } from '../../src/connectors/elementum/index.js'
import { createPgMirror } from '../../src/db/mirror.store.js'
import type { Connector } from '../../src/engine/ports.js'
import { runStream, type StreamRunOptions } from '../../src/engine/poll.js'
import type { StreamRef } from '../../src/engine/types.js'
import { createHttpClient } from '../../src/http/client.js'
import { createRedactor } from '../../src/logger.js'
import { startElementum, type StartedElementum } from '../../src/sim/elementum/index.js'
import { createTestDb } from '../support/db.js'
import { captureLogs, type CapturedLogs } from '../support/logs.js'

// The Elementum connector against the in-process simulator and a real Postgres mirror.

const db = await createTestDb()
const { sql } = db
const mirror = createPgMirror(sql)
const SEARCH = 'GET /v1/:recordType/:alias'
const TOKEN = 'POST /oauth/token'
const CHILD_ROUTES = ['GET /v1/:recordType/:alias/:id/comment', 'GET /v1/:recordType/:alias/:id/attachments', 'GET /v1/:recordType/:alias/:id/related-items']

interface Harness {
  sim: StartedElementum
  ref: StreamRef
  connector: Connector
  logs: CapturedLogs
  secret: string
  control(path: string, body?: unknown): Promise<unknown>
  /** Requests the simulator served since the last reset, by route and status. */
  served(): Promise<Record<string, Record<string, number>>>
  run(mode: 'full' | 'incremental', over?: Partial<StreamRunOptions>): ReturnType<typeof runStream>
}

async function setup(alias: string, opts: { seed?: number; tokenTtlSeconds?: number; filter?: string; connector?: ElementumOptions } = {}): Promise<Harness> {
  const secret = `elementum-S3cret-${alias}-9f8e7d6c5b4a`
  const sim = await startElementum({ port: 0, clientSecret: secret, ...(opts.tokenTtlSeconds ? { tokenTtlSeconds: opts.tokenTtlSeconds } : {}) })
  onTestFinished(() => sim.close())
  const control = async (path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${sim.server.url}/_sim${path}`, { method: 'POST', body: JSON.stringify(body ?? {}) })
    expect(res.status, `control ${path}`).toBeLessThan(300)
    return res.status === 204 ? undefined : res.json()
  }
  await control('/seed', { alias, count: opts.seed ?? 0 })
  const config = elementumConnectionSchema.parse({
    kind: 'elementum',
    baseUrl: sim.baseUrl,
    timeoutMs: 2000,
    auth: { mode: 'oauth2-client-credentials', clientId: sim.credentials.clientId, clientSecret: secret },
    streams: { [alias]: { recordType: 'tasks', alias, ...(opts.filter ? { filter: opts.filter } : {}) } },
  })
  // the logger gets its own (empty) redactor so a leaked secret would show in the captured text
  const logs = captureLogs()
  const redactor = createRedactor()
  const http = createHttpClient(
    { name: 'elementum', baseUrl: config.baseUrl, auth: config.auth, timeoutMs: config.timeoutMs },
    { logger: logs.logger, redactor, defaultTokenUrl: `${sim.server.url}/oauth/token`, retry: { attempts: 3, baseMs: 10, maxMs: 50 } },
  )
  const connector = createElementum({ name: 'elementum', config, http, logger: logs.logger }, opts.connector)
  const ref = { connection: 'elementum', stream: alias }
  return {
    sim,
    ref,
    connector,
    logs,
    secret,
    control,
    served: async () => {
      const stats = (await (await fetch(`${sim.server.url}/_sim/stats`)).json()) as { byRoute: Record<string, Record<string, number>> }
      sim.server.resetStats()
      return stats.byRoute
    },
    run: (mode, over = {}) =>
      runStream(mirror, { stream: ref, connector, mode, signal: new AbortController().signal, lookbackMs: 120_000, maxDeleteFraction: 0.1, ...over }),
  }
}

const count = async (table: string, stream: string, where = sql``): Promise<number> =>
  Number((await sql`select count(*)::int as n from ${sql(`elsync.${table}`)} where stream = ${stream} ${where}`)[0]?.n)
const xmins = async (stream: string) => sql`select remote_id, xmin::text as x from elsync.records where stream = ${stream} order by remote_id`
const cursorOf = async (stream: string) =>
  (await sql`select cursor from elsync.stream_state where stream = ${stream}`)[0]?.cursor as { since: string } | undefined

describe('elementum connector: mirroring', () => {
  it('mirrors a full scan, then picks up exactly the records a human edited or added, with their comments', async () => {
    const h = await setup('full-incr', { seed: 250 })
    const full = await h.run('full')
    expect(full).toMatchObject({ status: 'succeeded', mode: 'full', pages: 3, seen: 250, changed: 250 })
    expect(await count('records_current', 'full-incr')).toBe(250)
    expect(await count('record_history', 'full-incr', sql`and op = 'insert' and version = 1`)).toBe(250)
    // 3 searches of 100 + 3 child lists per record + 1 token
    expect(full.requests).toBe(1 + 3 + 250 * 3) // the token request counts too
    expect(await h.served()).toEqual({ [TOKEN]: { 200: 1 }, [SEARCH]: { 200: 3 }, ...Object.fromEntries(CHILD_ROUTES.map((r) => [r, { 200: 250 }])) })

    const status20 = h.sim.store.find('tasks', 'full-incr', 'TSK-20')?.data.Status
    const newStatus = status20 === 'In Progress' ? 'Closed' : 'In Progress'
    await h.control('/records/tasks/full-incr/TSK-10/edit', { Title: 'Renamed ten' })
    await h.control('/records/tasks/full-incr/TSK-20/edit', { Status: newStatus })
    await h.control('/records/tasks/full-incr/TSK-30/edit', { Site: 'Berlin' })
    await h.control('/records/tasks/full-incr', { Title: 'Brand new task', Status: 'Open' })
    await h.control('/records/tasks/full-incr/TSK-10/comments', { contents: 'Please prioritise', author: 'grace.hopper@example.com' })
    await h.control('/records/tasks/full-incr/TSK-20/comments', { contents: 'Fixed upstream\n\n— Jane Smith via Elean' })

    const incr = await h.run('incremental')
    expect(incr).toMatchObject({ status: 'succeeded', mode: 'incremental', pages: 1, seen: 4, changed: 4, requests: 1 + 4 * 3 })
    expect(await h.served()).toEqual({ [SEARCH]: { 200: 1 }, ...Object.fromEntries(CHILD_ROUTES.map((r) => [r, { 200: 4 }])) })
    const hist = await sql`select remote_id, version, op, changed from elsync.record_history
      where stream = 'full-incr' and (version > 1 or remote_id = 'TSK-251') order by remote_id`
    expect(hist.map((r) => [r.remote_id, r.version, r.op])).toEqual([
      ['TSK-10', 2, 'update'],
      ['TSK-20', 2, 'update'],
      ['TSK-251', 1, 'insert'],
      ['TSK-30', 2, 'update'],
    ])
    const changed = Object.fromEntries(hist.map((r) => [r.remote_id, r.changed]))
    expect(changed['TSK-10']?.title?.new).toBe('Renamed ten')
    expect(changed['TSK-20']?.status).toEqual({ old: status20, new: newStatus })
    expect(changed['TSK-30']?.['fields.Site']).toEqual({ old: null, new: 'Berlin' })
    expect(await count('records_current', 'full-incr')).toBe(251)
    const comments = await sql`select remote_id, body, author, origin from elsync.comments where stream = 'full-incr' order by remote_id`
    expect(comments.map((c) => [c.remote_id, c.author, c.origin])).toEqual([
      ['TSK-10', 'Grace Hopper', 'native'],
      ['TSK-20', 'Ada Lovelace', 'synced'],
    ])
  })

  it('writes nothing and makes one request when nothing changed since the last sync', async () => {
    const h = await setup('noop', { seed: 120 })
    expect((await h.run('full')).status).toBe('succeeded')
    await h.served()
    const before = { rows: await xmins('noop'), changes: await count('record_changes', 'noop'), cursor: await cursorOf('noop') }

    h.sim.server.clock.advance(1_000) // the cursor is the server's Date, which has one-second resolution
    const again = await h.run('incremental')
    expect(again).toMatchObject({ status: 'succeeded', pages: 1, seen: 0, changed: 0, requests: 1 })
    expect(await h.served()).toEqual({ [SEARCH]: { 200: 1 } }) // the token is cached: no token request
    expect(await xmins('noop')).toEqual(before.rows)
    expect(await count('record_changes', 'noop')).toBe(before.changes)
    const after = await cursorOf('noop')
    expect(Date.parse(after?.since ?? '')).toBeGreaterThan(Date.parse(before.cursor?.since ?? ''))

    // a full re-read reads the children of changed records only: none changed, so 2 searches
    const rescan = await h.run('full')
    expect(rescan).toMatchObject({ status: 'succeeded', seen: 120, changed: 0, requests: 2 })
    // and re-reading every record's children (a round-robin as large as the stream) writes no record row either
    const children = await h.run('full', { childBudget: 120 })
    expect(children).toMatchObject({ status: 'succeeded', seen: 120, changed: 0, requests: 2 + 120 * 3 })
    expect(await xmins('noop')).toEqual(before.rows)
    expect(await count('record_changes', 'noop')).toBe(before.changes)
  })

  it('reads the children of changed records with the page and a budgeted round-robin of the others, read longest ago first', async () => {
    const h = await setup('budget', { seed: 40 })
    const first = await h.run('full')
    // no cursor yet: every record is new, so all children are read once
    expect(first.requests).toBe(1 + 1 + 40 * 3)
    await h.served()
    h.sim.server.clock.advance(1_000)
    const budget = 10
    const read: string[] = []
    const readThisPoll = async () => (await h.served())[CHILD_ROUTES[0]!]?.[200] ?? 0
    // a quiet poll: one empty window and `budget` records' three child lists
    for (let poll = 1; poll <= 40 / budget; poll++) {
      const quiet = await h.run('incremental', { childBudget: budget })
      expect(quiet).toMatchObject({ status: 'succeeded', seen: 0, requests: 1 + budget * 3 })
      expect(await readThisPoll()).toBe(budget)
      const rows = await sql<{ remote_id: string }[]>`
        select remote_id from elsync.child_reads where stream = 'budget' order by read_at desc, remote_id limit ${budget}`
      read.push(...rows.map((r) => r.remote_id))
    }
    // four polls of 10 went round all 40 records once
    expect(new Set(read).size).toBe(40)

    // a comment on a record nobody edited arrives within ⌈40 / 10⌉ polls; an edited record's children come with the page
    await h.control('/records/tasks/budget/TSK-7/comments', { contents: 'Nobody touched the record', author: 'grace.hopper@example.com' })
    await h.control('/records/tasks/budget/TSK-30/edit', { Title: 'Edited' })
    await h.control('/records/tasks/budget/TSK-30/comments', { contents: 'Edited and commented', author: 'grace.hopper@example.com' })
    const has = async (id: string) =>
      (await sql`select 1 from elsync.comments where stream = 'budget' and remote_id = ${id} and body like '%commented%'`).length > 0
    const nobody = async () => (await sql`select 1 from elsync.comments where stream = 'budget' and remote_id = 'TSK-7' and body like 'Nobody%'`).length > 0
    const next = await h.run('incremental', { childBudget: budget })
    expect(next).toMatchObject({ status: 'succeeded', seen: 1, requests: 1 + 3 + budget * 3 })
    expect(await has('TSK-30')).toBe(true)
    let polls = 1
    while (!(await nobody()) && polls < 40 / budget) {
      await h.run('incremental', { childBudget: budget })
      polls += 1
    }
    expect(await nobody()).toBe(true)
  })

  it('does not read again the children of a record the lookback re-reads unchanged: an idle poll is its window and the budget', async () => {
    const h = await setup('lookback', { seed: 40 })
    await h.run('full')
    h.sim.server.clock.advance(1_000)
    await h.control('/records/tasks/lookback/TSK-5/edit', { Title: 'Edited once' })
    const budget = 4
    const edited = await h.run('incremental', { childBudget: budget })
    expect(edited).toMatchObject({ status: 'succeeded', seen: 1, changed: 1, requests: 1 + 3 + budget * 3 })
    await h.served()
    // each idle poll's window reaches a lookback before the last poll: it finds TSK-5 again, as it was
    for (let poll = 1; poll <= 2; poll++) {
      h.sim.server.clock.advance(1_000)
      const idle = await h.run('incremental', { childBudget: budget })
      expect(idle).toMatchObject({ status: 'succeeded', seen: 1, changed: 0, requests: 1 + budget * 3 })
      const served = await h.served()
      expect(served[SEARCH]).toEqual({ 200: 1 })
      for (const route of CHILD_ROUTES) expect(served[route], route).toEqual({ 200: budget })
    }
  })

  it('reads the children of a record whose new version the mirror got from a push, not from a read of its children', async () => {
    const h = await setup('pushed', { seed: 20 })
    await h.run('full')
    h.sim.server.clock.advance(1_000)
    // a person comments and edits; elsync's own write to the record lands before the next poll,
    // and the push stores the vendor's answer (the record as it is now) in the mirror
    await h.control('/records/tasks/pushed/TSK-3/comments', { contents: 'Said before the push', author: 'grace.hopper@example.com' })
    await h.control('/records/tasks/pushed/TSK-3/edit', { Title: 'Edited by a person' })
    const answer = await h.connector.records?.get?.('pushed', 'TSK-3', new AbortController().signal)
    if (!answer) throw new Error('TSK-3 missing')
    await mirror.applyPage(h.ref, { records: [answer] }, { source: 'push' })
    await h.served()
    const poll = await h.run('incremental')
    expect(poll).toMatchObject({ status: 'succeeded', seen: 1, changed: 0, requests: 1 + 3 })
    const comments = await sql`select body from elsync.comments where stream = 'pushed' and remote_id = 'TSK-3'`
    expect(comments.map((c) => c.body)).toContain('Said before the push')
  })

  it('loses no record stamped exactly at the cursor, nor any of 250 sharing one timestamp across pages', async () => {
    const h = await setup('boundary', { connector: { children: false } })
    const ns = h.sim.store.namespace('tasks', 'boundary')
    if (!ns) throw new Error('namespace missing')
    // the cursor is the server's time (its Date header) when it answered the read's first search
    const cursorMs = async () => Date.parse((await cursorOf('boundary'))?.since ?? '')
    expect((await h.run('full', { lookbackMs: 0 })).seen).toBe(0)
    const c1 = await cursorMs()
    expect(c1 % 1000).toBe(0)
    // stamped exactly at the cursor (the next window's inclusive start), and later
    h.sim.store.create(ns, { Title: 'at the cursor' }, { createdAtMs: c1, updatedAtMs: c1 })
    h.sim.store.create(ns, { Title: 'just after' }, { createdAtMs: c1 + 1, updatedAtMs: c1 + 1 })
    const first = await h.run('incremental', { lookbackMs: 0 })
    expect(first).toMatchObject({ status: 'succeeded', seen: 2, changed: 2 })
    // written after that read, at the very millisecond of its cursor
    const c2 = await cursorMs()
    h.sim.store.create(ns, { Title: 'late at the old cursor' }, { createdAtMs: c2, updatedAtMs: c2 })
    const second = await h.run('incremental', { lookbackMs: 0 })
    expect(second).toMatchObject({ status: 'succeeded', changed: 1 })
    expect(await count('records_current', 'boundary')).toBe(3)

    const c3 = await cursorMs()
    for (let i = 0; i < 250; i++) h.sim.store.create(ns, { Title: `same instant ${i}` }, { createdAtMs: c3, updatedAtMs: c3 })
    await h.served()
    const before = h.sim.server.clock.now()
    const burst = await h.run('incremental', { lookbackMs: 0 })
    const after = h.sim.server.clock.now()
    // the burst, plus the records of the last second (at most 3) read again unchanged
    expect(burst).toMatchObject({ status: 'succeeded', pages: 3, changed: 250, requests: 3 })
    expect(await count('records_current', 'boundary')).toBe(253)
    const c4 = await cursorMs()
    expect(c4).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000)
    expect(c4).toBeLessThanOrEqual(after)
  })

  it('pushes an OR stream filter down in parentheses, so the window narrows every branch', async () => {
    const h = await setup('filtered', { seed: 60, filter: 'Status==Open,Status==Closed', connector: { children: false } })
    const ns = h.sim.store.namespace('tasks', 'filtered')
    const all = [...(ns?.bySeq.values() ?? [])]
    const matching = all.filter((r) => r.data.Status === 'Open' || r.data.Status === 'Closed')
    expect(matching.length).toBeGreaterThan(5)
    expect(await h.run('full')).toMatchObject({ status: 'succeeded', seen: matching.length })
    const [open, cancelled] = [all.find((r) => r.data.Status === 'Open'), all.find((r) => r.data.Status === 'Cancelled')]
    if (!open || !cancelled) throw new Error('seed lacks an Open or a Cancelled record')
    h.sim.store.update(open, { Title: 'edited open' })
    h.sim.store.update(cancelled, { Title: 'edited cancelled' })
    // unparenthesised, `Status==Open,Status==Closed;<window>` would return every Open record
    expect(await h.run('incremental')).toMatchObject({ status: 'succeeded', seen: 1, changed: 1 })
    expect(await count('records_current', 'filtered', sql`and title like 'edited%'`)).toBe(1)
  })
})

describe('elementum connector: failures', () => {
  it('checks a connection with one token request and one first=1 search per stream', async () => {
    const h = await setup('checked', { seed: 5 })
    await expect(h.connector.check(new AbortController().signal)).resolves.toBeUndefined()
    expect(await h.served()).toEqual({ [TOKEN]: { 200: 1 }, [SEARCH]: { 200: 1 } })
  })

  it('refreshes an access token that expires between two pages and finishes the run', async () => {
    const h = await setup('token', { seed: 250, tokenTtlSeconds: 3600, connector: { children: false } })
    // the simulator's clock jumps two hours after the first page: its token is now expired (an
    // incremental poll saves page by page; a full scan would save the three pages together)
    const run = await h.run('incremental', { onPage: (p) => p.page === 1 && h.sim.server.clock.advance(2 * 3600_000) })
    expect(run).toMatchObject({ status: 'succeeded', pages: 3, seen: 250 })
    expect(await count('records_current', 'token')).toBe(250)
    expect(await h.served()).toEqual({ [TOKEN]: { 200: 2 }, [SEARCH]: { 200: 3, 401: 1 } })
  })

  it.each([
    { fault: { kind: 'status', status: 503 }, code: 'server_error', text: /503/ },
    { fault: { kind: 'malformed-json' }, code: 'bad_response', text: /malformed/ },
  ] as const)('keeps the cursor and the mirror when a page fails beyond the retries ($code)', async ({ fault, code, text }) => {
    const alias = `fail-${code}`
    const h = await setup(alias, { seed: 250, connector: { children: false } })
    expect((await h.run('full')).status).toBe('succeeded')
    const cursor = await cursorOf(alias)
    const ns = h.sim.store.namespace('tasks', alias)
    for (const seq of ns?.order.slice(0, 150) ?? []) {
      const r = ns?.bySeq.get(seq)
      if (r) h.sim.store.update(r, { Title: `${r.data.Title} (edited)` })
    }
    // page 1 goes through, page 2 fails beyond the retries (armed before the run: page 2 is read while page 1 is saved)
    h.sim.server.faults.arm({ ...fault, count: 3, route: `/v1/tasks/${alias}`, skip: 1 })
    const failed = await h.run('incremental')
    expect(failed).toMatchObject({ status: 'failed', pages: 1, error: { code } })
    expect(await cursorOf(alias)).toEqual(cursor)
    expect(await count('records_current', alias)).toBe(250)
    expect(await count('record_history', alias, sql`and op = 'delete'`)).toBe(0)
    const [row] = await sql`select status, error from elsync.sync_runs where id = ${failed.runId}`
    expect(row?.status).toBe('failed')
    expect(row?.error).toMatch(new RegExp(`^${code}: .*${text.source}`))

    // the next run re-reads the whole window and catches up
    h.sim.server.clock.advance(1_000) // the cursor is the server's Date, which has one-second resolution
    const retry = await h.run('incremental')
    expect(retry).toMatchObject({ status: 'succeeded', seen: 150 })
    expect(await count('records_current', alias, sql`and title like '%(edited)'`)).toBe(150)
    expect(Date.parse((await cursorOf(alias))?.since ?? '')).toBeGreaterThan(Date.parse(cursor?.since ?? ''))
  })

  it('never writes the client secret to logs, run errors or the mirror', async () => {
    const h = await setup('secrets', { seed: 30 })
    expect((await h.run('full')).status).toBe('succeeded')
    await h.control('/tokens/revoke')
    h.sim.server.faults.arm({ kind: 'status', status: 401, count: 2, route: '/oauth/token' })
    const failed = await h.run('incremental')
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'auth_failed' } })
    await expect(h.connector.check(new AbortController().signal)).rejects.toMatchObject({ code: 'auth_failed', message: /stream secrets .*token endpoint/ })

    const basic = Buffer.from(`${h.sim.credentials.clientId}:${h.secret}`).toString('base64')
    const forms = [h.secret, encodeURIComponent(h.secret), basic]
    const logs = h.logs.text()
    expect(logs).toMatch(/"route":"GET \/\{recordType\}\/\{alias\}"/) // the capture did record requests
    const tables = await sql`select table_name from information_schema.tables where table_schema = 'elsync' and table_type = 'BASE TABLE'`
    let dump = ''
    for (const { table_name } of tables) dump += (await sql`select t::text as row from ${sql(`elsync.${table_name}`)} t`).map((r) => r.row).join('\n')
    expect(dump).toContain('TSK-30')
    expect(dump).toMatch(/auth_failed: token endpoint .* answered 401/)
    for (const form of forms) {
      expect(logs).not.toContain(form)
      expect(dump).not.toContain(form)
    }
  })
})
