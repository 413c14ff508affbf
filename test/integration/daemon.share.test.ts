import { afterAll, describe, expect, it } from 'vitest'
import { type Config, connectionsFileSchema } from '../../src/config/schema.js'
import { createStreamLeases } from '../../src/db/leases.store.js'
import { createReplicas } from '../../src/db/replicas.store.js'
import { type Daemon, startDaemon } from '../../src/main.js'
import { startElean } from '../../src/sim/elean/index.js'
import { createTestDb } from '../support/db.js'
import { deferred } from '../support/deferred.js'
import { captureLogs } from '../support/logs.js'
import { until } from '../support/until.js'

const db = await createTestDb()
const sim = await startElean({ port: 0, perMinute: 0 })
sim.store.seed('web', 30, 3)
const daemons: Daemon[] = []
afterAll(async () => {
  await Promise.all(daemons.map((d) => d.stop()))
  await sim.close()
})

describe('replicas on one database', () => {
  it('counts the live replicas: one that leaves at once, one that dies when its row runs out', async () => {
    const a = createReplicas(db.sql, { owner: 'replica-a', ttlMs: 60_000 })
    const b = createReplicas(db.sql, { owner: 'replica-b', ttlMs: 60_000 })
    await a.join()
    expect(await a.live()).toBe(1)
    await b.join()
    // a replica that died (SIGKILL): its row is no longer renewed
    await db.sql`insert into elsync.replicas (owner, expires_at) values ('replica-dead', now() + interval '1 second')`
    expect(await a.live()).toBe(3)
    await b.leave()
    await until('the dead replica to drop out', async () => ((await a.live()) === 1 ? true : undefined))
    await a.leave()
  })

  it('takes no free lease past the fair share, counting only the streams taken with a share', async () => {
    const leases = createStreamLeases(db.sql, { owner: 'share-test', ttlMs: 30_000 })
    const release = deferred()
    const share = async () => 1
    const first = leases.tryRun({ connection: 'c1', stream: 's' }, () => release.promise.then(() => 'ran'), { fairShare: share })
    await until('the first lease', async () =>
      (await db.sql`select 1 from elsync.stream_leases where connection = 'c1' and owner = 'share-test'`).length ? true : undefined,
    )
    // over the share: left for another replica
    expect(await leases.tryRun({ connection: 'c2', stream: 's' }, async () => 'ran', { fairShare: share })).toBe('busy')
    // without a share (a one-shot sync, a takeover) there is no limit
    expect(await leases.tryRun({ connection: 'c2', stream: 's' }, async () => 'ran')).toBe('ran')
    release.resolve()
    expect(await first).toBe('ran')
    // the share is free again
    expect(await leases.tryRun({ connection: 'c2', stream: 's' }, async () => 'ran', { fairShare: share })).toBe('ran')
  })

  it('two daemons started together split two streams between them', { timeout: 60_000 }, async () => {
    const logs = captureLogs([sim.credentials.apiKey!])
    const elean = {
      kind: 'elean',
      baseUrl: sim.baseUrl,
      auth: { mode: 'bearer', token: sim.credentials.apiKey },
      poll: '0 0 1 1 *',
      streams: { web: { project: 'web' } },
    }
    const { connections } = connectionsFileSchema.parse({ connections: { 'elean-a': elean, 'elean-b': elean } })
    const config: Config = { dir: '.', connections, mappings: [] }
    const env = {
      databaseUrl: db.url,
      configDir: '.',
      adminPort: 0,
      logLevel: 'info' as const,
      dataDir: '.elsync',
      adminToken: 'a-long-enough-admin-token',
      startupSettleMs: 1_500,
    }
    // each stream's first listing is answered 429 with a Retry-After of 3 s: the runs overlap in time
    await fetch(`${sim.server.url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ kind: 'rate-limit', retryAfterSeconds: 3, count: 2 }) })
    const ran: Record<string, string[]> = { a: [], b: [] }
    const start = (name: 'a' | 'b') =>
      startDaemon(
        { env, config, logger: logs.logger, redactor: logs.redactor },
        { say: () => {}, onRun: (line) => ran[name]?.push(/\S+\/web/.exec(line)?.[0] ?? line) },
      )
    const [a, b] = await Promise.all([start('a'), start('b')])
    daemons.push(a, b)
    await Promise.all([a.pollAll(), b.pollAll()])
    await fetch(`${sim.server.url}/_sim/faults`, { method: 'DELETE' })
    // each ran one stream: the other was past its share of ⌈2 ÷ 2⌉ = 1
    expect(ran.a).toHaveLength(1)
    expect(ran.b).toHaveLength(1)
    expect([...(ran.a ?? []), ...(ran.b ?? [])].sort()).toEqual(['elean-a/web', 'elean-b/web'])
    const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from elsync.replicas where expires_at > now()`
    expect(row?.n).toBe(2)
    await b.stop()
    const [after] = await db.sql<{ n: number }[]>`select count(*)::int as n from elsync.replicas where expires_at > now()`
    expect(after?.n).toBe(1)
  })
})
