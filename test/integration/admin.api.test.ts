import { afterAll, describe, expect, it, vi } from 'vitest'
import { createStreamLeases } from '../../src/db/leases.store.js'
import { ADMIN_TOKEN, declaredSchema, openApiOperations, startAdminHarness, undeclaredAnswers } from '../support/admin.js'
import { createTestDb } from '../support/db.js'
import { until } from '../support/until.js'

/** The admin API under /v1, through `app.inject()`, over two simulators and the example mapping with `conflict: manual`. */
const db = await createTestDb()
const h = await startAdminHarness(db, { conflict: 'manual', worker: true })
afterAll(() => h.close())

const ROUTES = [
  ['GET', '/v1/streams'],
  ['POST', '/v1/resync'],
  ['GET', '/v1/runs'],
  ['GET', '/v1/runs/1'],
  ['GET', '/v1/outbox'],
  ['POST', '/v1/outbox/1/retry'],
  ['GET', '/v1/conflicts'],
  ['POST', '/v1/conflicts/1/resolve'],
  ['POST', '/v1/mappings/it-requests/pause'],
  ['POST', '/v1/mappings/it-requests/resume'],
  ['GET', '/v1/mappings/it-requests/plan'],
] as const

/** The n-th linked pair of records (Elementum → Elean), in link order. */
async function linked(n: number): Promise<{ left_remote_id: string; right_remote_id: string }> {
  const pairs = await db.sql<{ left_remote_id: string; right_remote_id: string }[]>`
    select left_remote_id, right_remote_id from elsync.links
    where state = 'linked' and left_remote_id like 'TSK-%' and right_remote_id is not null order by link_id`
  const pair = pairs[n]
  if (!pair) throw new Error(`fewer than ${n + 1} linked records`)
  return pair
}

/** Holds a lease as another replica would (waiting for it if one of ours has it); resolves once held, to its release. */
async function holdLease(stream: { connection: string; stream: string }): Promise<() => Promise<void>> {
  const other = createStreamLeases(db.sql, { owner: 'another-replica' })
  let release = () => {}
  let held = () => {}
  const holding = new Promise<void>((resolve) => (held = resolve))
  const done = until('the lease', async () => {
    const r = await other.tryRun(stream, () => {
      held()
      return new Promise<void>((resolve) => (release = resolve))
    })
    return r === 'busy' ? undefined : true
  })
  await holding
  return async () => {
    release()
    await done
  }
}

const run = async (id: number) => (await h.call('GET', `/v1/runs/${id}`)).body
const finished = (id: number) =>
  until(`run ${id} to finish`, async () => ((await run(id)).state !== 'queued' && (await run(id)).state !== 'running' ? run(id) : undefined))

describe('the admin API: guards and errors', () => {
  it('answers 401 on every /v1 route without the token or with a wrong one, and on unknown /v1 routes', async () => {
    for (const [method, url] of [...ROUTES, ['GET', '/v1/nothing-here'] as const]) {
      for (const token of [null, 'wrong-token-of-the-same-len-0123456', `${ADMIN_TOKEN}x`]) {
        const r = await h.call(method, url, { token })
        expect(r.status, `${method} ${url}`).toBe(401)
        expect(r.body).toEqual({ error: { code: 'unauthorized', message: 'missing or invalid admin token' } })
      }
    }
  })

  it('answers 404 for unknown routes and unknown names', async () => {
    for (const [method, url, body] of [
      ['GET', '/v1/nothing-here', undefined],
      ['DELETE', '/v1/streams', undefined],
      ['POST', '/v1/resync', { connection: 'nope' }],
      ['POST', '/v1/resync', { connection: 'elean', stream: 'nope' }],
      ['POST', '/v1/resync', { connection: 'constructor' }],
      ['GET', '/v1/runs/999999', undefined],
      ['GET', '/v1/runs?connection=nope', undefined],
      ['POST', '/v1/outbox/999999/retry', undefined],
      ['GET', '/v1/outbox?mapping=nope', undefined],
      ['POST', '/v1/conflicts/999999/resolve', { winner: 'left' }],
      ['GET', '/v1/conflicts?mapping=nope', undefined],
      ['POST', '/v1/mappings/nope/pause', undefined],
      ['POST', '/v1/mappings/nope/resume', undefined],
      ['GET', '/v1/mappings/nope/plan', undefined],
    ] as const) {
      const r = await h.call(method as 'GET', url, body === undefined ? {} : { body })
      expect(r.status, `${method} ${url} ${JSON.stringify(body)}`).toBe(404)
      expect(r.body.error.code).toBe('not_found')
    }
  })

  it('answers 400 naming the field for malformed JSON, wrong types and unknown fields, in bodies, queries and paths', async () => {
    const cases: [string, string, { body?: unknown; raw?: string }, RegExp][] = [
      ['POST', '/v1/resync', { raw: '{"connection": "elean",' }, /not valid JSON/],
      ['POST', '/v1/resync', { raw: '' }, /not valid JSON/],
      ['POST', '/v1/conflicts/1/resolve', { raw: '{winner: left}' }, /not valid JSON/],
      ['POST', '/v1/resync', { body: { connection: 5 } }, /^body\.connection: /],
      ['POST', '/v1/resync', { body: { connection: 'elean', mode: 'sideways' } }, /^body\.mode: /],
      ['POST', '/v1/resync', { body: { connection: 'elean', since: 'yesterday' } }, /^body\.since: /],
      ['POST', '/v1/resync', { body: { connection: 'elean', force: true } }, /^body: .*"force"/],
      ['POST', '/v1/resync', { body: ['elean'] }, /^body: /],
      ['POST', '/v1/resync', {}, /^body: /],
      ['POST', '/v1/conflicts/1/resolve', { body: { winner: 'both' } }, /^body\.winner: /],
      ['POST', '/v1/conflicts/1/resolve', { body: { winner: 'left', note: 'x' } }, /"note"/],
      ['POST', '/v1/outbox/1/retry', { body: { now: true } }, /"now"/],
      ['POST', '/v1/mappings/it-requests/pause', { body: { until: 'tomorrow' } }, /"until"/],
      ['GET', '/v1/runs?limit=ten', {}, /^query\.limit: /],
      ['GET', '/v1/runs?limit=0', {}, /^query\.limit: /],
      ['GET', '/v1/runs?limit=100000', {}, /^query\.limit: /],
      ['GET', '/v1/runs?bogus=1', {}, /^query: .*"bogus"/],
      ['GET', '/v1/runs?connection=elean&connection=elementum', {}, /^query\.connection: /],
      ['GET', '/v1/outbox?state=sent', {}, /^query\.state: /],
      ['GET', '/v1/conflicts?state=closed', {}, /^query\.state: /],
      ['GET', '/v1/runs/abc', {}, /^path\.id: /],
      ['GET', '/v1/runs/-1', {}, /^path\.id: /],
      ['GET', '/v1/runs/99999999999999999999', {}, /^path\.id: /],
      ['POST', '/v1/outbox/1.5/retry', {}, /^path\.id: /],
    ]
    for (const [method, url, o, message] of cases) {
      const r = await h.call(method as 'GET', url, o)
      expect(r.status, `${method} ${url} ${JSON.stringify(o)}: ${JSON.stringify(r.body)}`).toBe(400)
      expect(r.body.error.code).toMatch(/^(invalid_request|invalid_json)$/)
      expect(r.body.error.message).toMatch(message)
    }
  })

  it('answers 413 to an oversized body and 414 to an overlong path segment, in the same error shape', async () => {
    const r = await h.call('POST', '/v1/resync', { raw: JSON.stringify({ connection: 'x'.repeat(200_000) }) })
    expect(r.status).toBe(413)
    expect(r.body).toEqual({ error: { code: 'payload_too_large', message: expect.stringMatching(/larger than/) } })
    const long = await h.call('GET', `/v1/runs/${'9'.repeat(300)}`)
    expect(long).toEqual({ status: 414, body: { error: { code: 'uri_too_long', message: 'a path segment is too long' } } })
  })

  it('publishes /openapi.json generated from the route schemas', async () => {
    const r = await h.call('GET', '/openapi.json', { token: null })
    expect(r.status).toBe(200)
    const paths = Object.keys(r.body.paths)
    for (const [, url] of ROUTES) expect(paths).toContain(url.replace(/\/1\//, '/{id}/').replace(/\/1$/, '/{id}').replace('it-requests', '{id}'))
    const resync = r.body.paths['/v1/resync'].post
    expect(resync.requestBody.content['application/json'].schema).toMatchObject({
      properties: { connection: { type: 'string' }, mode: { enum: ['incremental', 'full'] } },
      additionalProperties: false,
    })
    expect(resync.security).toEqual([{ bearer: [] }])
  })

  it('declares in /openapi.json what every route answers: its 2xx body, and {error: {code, message}} for each error status', async () => {
    const ops = await openApiOperations(h)
    const template = (url: string) => url.replace(/\/1(\/|$)/, '/:id$1').replace('it-requests', ':id')
    expect([...ops.keys()].sort()).toEqual(ROUTES.map(([method, url]) => `${method} ${template(url)}`).sort())
    const errorSchema = {
      type: 'object',
      properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, additionalProperties: false } },
      additionalProperties: false,
    }
    for (const [key, op] of ops) {
      const statuses = Object.keys(op.responses)
      const ok = statuses.filter((s) => /^2\d\d$/.test(s))
      expect(ok, key).toEqual([key === 'POST /v1/resync' ? '202' : '200'])
      expect(op.responses[ok[0] ?? '']?.content?.['application/json']?.schema, key).toMatchObject({ type: 'object', additionalProperties: false })
      const expected = ['400', '401', '500']
      if (key !== 'GET /v1/streams') expected.push('404')
      if (/retry|resolve|plan/.test(key)) expected.push('409')
      if (key.startsWith('POST')) expected.push('413', '415')
      expect(statuses.filter((s) => s !== ok[0]).sort(), key).toEqual(expected.sort())
      for (const s of expected) expect(op.responses[s]?.content?.['application/json']?.schema, `${key} ${s}`).toMatchObject(errorSchema)
    }
    // the schemas hold: a run with a field missing or one too many is not what GET /v1/runs/:id declares
    const runSchema = declaredSchema(ops.get('GET /v1/runs/:id')!, 200)!
    const answer = {
      ...{ id: 7, connection: 'elean', stream: 'web', mode: 'full', state: 'succeeded', queuedAt: null, startedAt: '2026-12-05T00:00:00.123456+00:00' },
      ...{ finishedAt: null, durationMs: 12, pages: 1, records: { seen: 3, changed: 0, deleted: 0 }, requests: 2, quarantined: 0, childrenStale: 0 },
      ...{ since: null, error: null },
    }
    expect(runSchema.safeParse(answer).success).toBe(true)
    const { error: _, ...missing } = answer
    expect(runSchema.safeParse(missing).success).toBe(false)
    expect(runSchema.safeParse({ ...answer, token: 'x' }).success).toBe(false)
  })
})

describe('the admin API over the simulators', () => {
  it('runs a queued resync to completion and shows it in /v1/runs/:id, /v1/runs and /v1/streams', { timeout: 60_000 }, async () => {
    const r = await h.call('POST', '/v1/resync', { body: { connection: 'elean', stream: 'web' } })
    expect(r.status).toBe(202)
    expect(r.body).toEqual({ runs: [expect.any(Number)] })
    const id = r.body.runs[0] as number
    const done = await finished(id)
    expect(done).toMatchObject({ id, connection: 'elean', stream: 'web', state: 'succeeded', mode: 'full', error: null, queuedAt: expect.any(String) })
    expect(done.pages).toBeGreaterThan(0)
    expect(done.records.seen).toBe(3)
    expect(done.requests).toBeGreaterThan(0)
    const list = await h.call('GET', '/v1/runs?connection=elean&limit=5')
    expect(list.body.runs.map((x: { id: number }) => x.id)).toContain(id)
    const changes = await db.sql`select distinct source from elsync.record_changes where run_id = ${id}`
    expect(changes.map((c) => c.source)).toEqual(['resync'])

    const streams = await h.call('GET', '/v1/streams')
    expect(streams.body.streams).toEqual([
      expect.objectContaining({ connection: 'elementum', stream: 'it-requests', lastRun: null, consecutiveFailures: 0 }),
      expect.objectContaining({
        connection: 'elean',
        stream: 'web',
        lastRun: expect.objectContaining({ id, state: 'succeeded' }),
        lastSuccessAt: expect.any(String),
        lagSeconds: expect.any(Number),
        lastError: null,
        consecutiveFailures: 0,
        queuedResyncs: 0,
        cursor: expect.objectContaining({ lastScanAt: expect.any(String) }),
      }),
    ])
  })

  it('queues every stream of a connection, and a resync waits behind a running run of its stream', { timeout: 60_000 }, async () => {
    // another replica runs the stream: its lease is held until released below
    const release = await holdLease({ connection: 'elementum', stream: 'it-requests' })
    const r = await h.call('POST', '/v1/resync', { body: { connection: 'elementum' } })
    expect(r.status).toBe(202)
    expect(r.body.runs).toHaveLength(1)
    const id = r.body.runs[0] as number
    await until('the worker to find the stream busy', () => (h.logs.text().includes('resync waits: its stream is running') ? true : undefined))
    expect((await run(id)).state).toBe('queued')
    expect((await h.call('GET', '/v1/streams')).body.streams[0]).toMatchObject({ queuedResyncs: 1, running: true })
    await release()
    expect(await finished(id)).toMatchObject({ state: 'succeeded', mode: 'incremental', startedAt: expect.any(String) })
  })

  it('shares queued resyncs between replicas: each runs once, one at a time per stream', { timeout: 60_000 }, async () => {
    h.startReplica()
    const ids: number[] = []
    for (let i = 0; i < 4; i++) ids.push(...(await h.call('POST', '/v1/resync', { body: { connection: 'elean', stream: 'web' } })).body.runs)
    for (const id of ids) expect(await finished(id)).toMatchObject({ state: 'succeeded' })
    const [overlaps] = await db.sql`
      select count(*)::int as n from elsync.sync_runs a join elsync.sync_runs b on a.id < b.id
      where a.id = any(${ids}::bigint[]) and b.id = any(${ids}::bigint[]) and a.started_at < b.finished_at and b.started_at < a.finished_at`
    expect(overlaps?.n).toBe(0)
    const [{ n }] = (await db.sql`select count(*)::int as n from elsync.sync_runs where status = 'abandoned'`) as unknown as [{ n: number }]
    expect(n).toBe(0)
  })

  it('with since, reads further back than the cursor for that run only, and leaves the cursor where a poll would', { timeout: 60_000 }, async () => {
    await h.cycle()
    const cursorOf = async () =>
      (await db.sql`select cursor from elsync.stream_state where connection = 'elementum' and stream = 'it-requests'`)[0]?.cursor as { since: string }
    const before = await cursorOf()
    // an edit stamped an hour ago (a server whose clock was behind): behind the window of any poll
    const clock = h.elementum.store.clock
    clock.advance(-3_600_000)
    const record = h.elementum.store.find('tasks', 'it-requests', 'TSK-2')
    if (!record) throw new Error('no TSK-2 in the simulator')
    h.elementum.store.update(record, { Title: 'Edited while the clock was behind' })
    clock.advance(3_600_000)
    const title = async () => (await db.sql`select title from elsync.records where connection = 'elementum' and remote_id = 'TSK-2'`)[0]?.title
    await h.app.pollPass({ connection: 'elementum', mode: 'incremental', signal: AbortSignal.timeout(30_000) })
    expect(await title()).not.toBe('Edited while the clock was behind')

    const since = new Date(Date.now() - 2 * 3_600_000).toISOString()
    const r = await h.call('POST', '/v1/resync', { body: { connection: 'elementum', stream: 'it-requests', since } })
    const done = await finished(r.body.runs[0])
    expect(done).toMatchObject({ state: 'succeeded', since: expect.any(String) })
    expect(Date.parse(done.since)).toBe(Date.parse(since))
    expect(await title()).toBe('Edited while the clock was behind')
    expect(Date.parse((await cursorOf()).since)).toBeGreaterThanOrEqual(Date.parse(before.since))
  })

  it('resolving a manual conflict pushes the winner to the simulator, and the field flows again', { timeout: 120_000 }, async () => {
    await h.cycle()
    await h.cycle()
    const pair = await linked(0)
    const task = () => h.elean.store.findTask(h.elean.store.project('web')!, pair.right_remote_id)
    const record = h.elementum.store.find('tasks', 'it-requests', pair.left_remote_id)!
    h.elementum.store.update(record, { Title: 'Left wins this one' })
    h.elean.store.editTask(task()!, { title: 'Right says otherwise' }, 'always')
    await h.cycle()
    const open = await h.call('GET', '/v1/conflicts?state=open')
    expect(open.status).toBe(200)
    const conflict = open.body.conflicts.find((c: { leftRemoteId: string }) => c.leftRemoteId === pair.left_remote_id)
    expect(conflict).toMatchObject({
      field: 'Title ↔ title',
      leftValue: 'Left wins this one',
      rightValue: 'Right says otherwise',
      state: 'open',
      policy: 'manual',
    })
    expect(task()?.title).toBe('Right says otherwise')

    const plan = await h.call('GET', '/v1/mappings/it-requests/plan')
    expect(plan.status).toBe(200)
    expect(plan.body).toMatchObject({ mapping: 'it-requests', paused: false, writes: [] })

    const resolved = await h.call('POST', `/v1/conflicts/${conflict.id}/resolve`, { body: { winner: 'left' } })
    expect(resolved.status).toBe(200)
    expect(resolved.body).toMatchObject({ conflictId: conflict.id, winner: 'left', value: 'Left wins this one', outboxId: expect.any(Number) })
    const again = await h.call('POST', `/v1/conflicts/${conflict.id}/resolve`, { body: { winner: 'right' } })
    expect(again.status).toBe(409)
    expect(again.body.error.code).toBe('conflict_not_open')
    const [row] = await db.sql`select state, resolved_by, winner from elsync.conflicts where conflict_id = ${conflict.id}`
    expect(row).toEqual({ state: 'resolved', resolved_by: 'admin', winner: 'left' })

    await h.app.executor.drain(AbortSignal.timeout(30_000))
    expect(task()?.title).toBe('Left wins this one')
    // the echo comes back as no change, and the field is no longer held: a later edit flows
    await h.cycle()
    h.elementum.store.update(record, { Title: 'And then it moved on' })
    await h.cycle()
    expect(task()?.title).toBe('And then it moved on')
    const stillOpen = (await h.call('GET', '/v1/conflicts?state=open')).body.conflicts
    expect(stillOpen.filter((c: { leftRemoteId: string }) => c.leftRemoteId === pair.left_remote_id)).toEqual([])
  })

  it('pauses a mapping (no reconcile, no push, on every replica), plans it, and resumes it', { timeout: 120_000 }, async () => {
    const pair = await linked(1)
    const record = h.elementum.store.find('tasks', 'it-requests', pair.left_remote_id)!
    const paused = await h.call('POST', '/v1/mappings/it-requests/pause')
    expect(paused).toEqual({ status: 200, body: { mapping: 'it-requests', paused: true } })
    const [view] = await db.sql`select paused from elsync.mappings where mapping_id = 'it-requests'`
    expect(view?.paused).toBe(true)

    h.elementum.store.update(record, { Title: 'Written while paused' })
    await h.app.pollPass({ mode: 'incremental', signal: AbortSignal.timeout(30_000) })
    const [reconciled] = await h.app.reconcilePass({ signal: AbortSignal.timeout(30_000) })
    expect(reconciled).toMatchObject({ mappingId: 'it-requests', paused: true, summary: null })
    const plan = await h.call('GET', '/v1/mappings/it-requests/plan')
    expect(plan.body).toMatchObject({
      paused: true,
      writes: [expect.objectContaining({ target: 'right', op: 'update', values: { title: 'Written while paused' } })],
    })
    expect(plan.body.plan).toHaveLength(1)
    const [{ n }] = (await db.sql`select count(*)::int as n from elsync.outbox where field_values->>'title' = 'Written while paused'`) as unknown as [
      { n: number },
    ]
    expect(n).toBe(0)

    // a write queued before the pause (here: by an admin's hand) is not pushed while paused
    await h.call('POST', '/v1/mappings/it-requests/resume')
    await h.app.reconcilePass({ signal: AbortSignal.timeout(30_000) })
    await h.call('POST', '/v1/mappings/it-requests/pause')
    expect(await h.app.executor.drain(AbortSignal.timeout(30_000))).toMatchObject({ sent: 0, failed: 0, dead: 0 })
    const [queued] = await db.sql`select id, state from elsync.outbox where field_values->>'title' = 'Written while paused'`
    expect(queued?.state).toBe('pending')
    expect((await h.call('GET', '/v1/outbox?state=pending')).body.outbox).toEqual([
      expect.objectContaining({ id: Number(queued?.id), mappingId: 'it-requests' }),
    ])

    const resumed = await h.call('POST', '/v1/mappings/it-requests/resume', { body: {} })
    expect(resumed.body).toEqual({ mapping: 'it-requests', paused: false })
    await h.app.executor.drain(AbortSignal.timeout(30_000))
    expect(h.elean.store.findTask(h.elean.store.project('web')!, pair.right_remote_id)?.title).toBe('Written while paused')
  })

  it('plans a mapping that is being reconciled once the reconcile is done, instead of refusing', { timeout: 60_000 }, async () => {
    // another replica reconciles the mapping: it holds the mapping's lease until released below
    const release = await holdLease({ connection: '#mapping', stream: 'it-requests' })
    const tries = vi.spyOn(h.app, 'reconcilePass')
    const planned = h.call('GET', '/v1/mappings/it-requests/plan')
    const dryRuns = () => tries.mock.calls.flatMap(([o], i) => (o.dryRun ? [tries.mock.results[i]?.value] : []))
    await until('a plan that found the mapping busy', async () => ((await dryRuns()[0])?.[0]?.busy ? true : undefined))
    await release()
    expect((await planned).status).toBe(200)
    expect(dryRuns().length).toBeGreaterThan(1)
    tries.mockRestore()
  })

  it('lists dead writes and retries them once (409 after)', async () => {
    const [row] = await db.sql`update elsync.outbox set state = 'dead', last_error_code = 'bad_request', last_error = 'refused'
      where id = (select max(id) from elsync.outbox) returning id`
    const id = Number(row?.id)
    const dead = await h.call('GET', '/v1/outbox?state=dead')
    expect(dead.body.outbox).toEqual([expect.objectContaining({ id, state: 'dead', lastErrorCode: 'bad_request', lastError: 'refused' })])
    expect(await h.call('POST', `/v1/outbox/${id}/retry`)).toEqual({ status: 200, body: { id, state: 'pending' } })
    const again = await h.call('POST', `/v1/outbox/${id}/retry`)
    expect(again.status).toBe(409)
    expect(again.body.error.code).toBe('not_retryable')
  })

  it('never shows a configured secret, even one an error carried into the database', async () => {
    const key = h.elean.credentials.apiKey ?? ''
    const [row] = await db.sql`insert into elsync.sync_runs (connection, stream, mode, status, error)
      values ('elean', 'web', 'full', 'failed', ${`unauthorized: key ${key} refused`}) returning id`
    const r = await h.call('GET', `/v1/runs/${row?.id}`)
    expect(r.body.error).toBe('unauthorized: key [REDACTED] refused')
    expect((await h.call('GET', '/v1/streams')).body.streams[1].lastError).toBe('unauthorized: key [REDACTED] refused')
    for (const [method, url] of ROUTES) await h.call(method, url)
    expect(h.answers.length).toBeGreaterThan(100)
    for (const answer of h.answers) for (const secret of h.secrets) expect(answer).not.toContain(secret)
    for (const answer of h.answers) expect(answer).not.toMatch(/\bat .+\.(ts|js):\d+/)
  })

  it('answered, on every route, only statuses and bodies that /openapi.json declares, and a 2xx at least once', async () => {
    expect(h.exchanges.length).toBeGreaterThan(100)
    expect(await undeclaredAnswers(h)).toEqual([])
    for (const key of (await openApiOperations(h)).keys())
      expect(
        h.exchanges.some((x) => `${x.method} ${x.route}` === key && x.status < 300),
        `a 2xx from ${key}`,
      ).toBe(true)
  })
})
