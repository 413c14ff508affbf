import { describe, expect, it, onTestFinished } from 'vitest'
import type { ConnectionConfig } from '../../src/config/schema.js'
import { eleanConnectionSchema } from '../../src/connectors/elean/elean.config.js'
import { elementumConnectionSchema } from '../../src/connectors/elementum/elementum.config.js'
import { createConnector } from '../../src/connectors/index.js'
import { createPgMirror } from '../../src/db/mirror.store.js'
import type { Connector } from '../../src/engine/ports.js'
import type { StreamRunResult } from '../../src/engine/poll.js'
import { syncPass } from '../../src/engine/sync.js'
import type { StreamRef } from '../../src/engine/types.js'
import { startElean } from '../../src/sim/elean/index.js'
import { startElementum } from '../../src/sim/elementum/index.js'
import { createTestDb } from '../support/db.js'
import { simControl } from '../support/sim-control.js'
import { captureLogs } from '../support/logs.js'

/**
 * An API whose clock is ten minutes behind or ahead of ours, its `Date` header and its
 * record stamps alike (the simulator's clock is moved before anything is seeded). Edits
 * made after a sync must be mirrored by the next one, both by a one-shot `elsync sync` (a
 * fresh connector per sync, so no clock skew has been measured yet) and by the daemon
 * (one connector for its life). Syncs go through `syncPass` as the CLI's do, with the
 * default lookback of 120 s.
 */

const db = await createTestDb()
const mirror = createPgMirror(db.sql)
const SKEWS = [
  { name: '10 minutes behind', ms: -600_000 },
  { name: '10 minutes ahead', ms: 600_000 },
]
const LIFETIMES = ['one-shot', 'daemon'] as const
const CASES = SKEWS.flatMap((skew) => LIFETIMES.map((lifetime) => ({ skew: skew.name, ms: skew.ms, lifetime })))
let n = 0

const control = simControl

/** One sync of `ref`, through a connector that lives for this sync only (one-shot) or for the whole test (daemon). */
function syncer(ref: StreamRef, config: ConnectionConfig, lifetime: (typeof LIFETIMES)[number]) {
  const build = (): Connector => {
    const logs = captureLogs()
    return createConnector(ref.connection, config, { logger: logs.logger, redactor: logs.redactor, retry: { attempts: 3, baseMs: 10, maxMs: 50 } })
  }
  const daemon = build()
  return async (): Promise<StreamRunResult> => {
    const connector = lifetime === 'daemon' ? daemon : build()
    const [result] = await syncPass(mirror, [{ stream: ref, connector, lookbackSeconds: 120, maxDeleteFraction: 0.1 }], {
      mode: 'incremental',
      signal: AbortSignal.timeout(30_000),
    })
    if (!result) throw new Error('no run')
    return result
  }
}

const titles = async (ref: StreamRef, ids: readonly string[]) =>
  (
    await db.sql`select remote_id, title from elsync.records_current
      where connection = ${ref.connection} and stream = ${ref.stream} and remote_id in ${db.sql(ids)} order by remote_id`
  ).map((r) => `${r.remote_id} ${r.title}`)

describe('incremental reads against an API clock that is off', () => {
  it.each(CASES)('elementum $skew, $lifetime: every edit made after a sync is mirrored by the next', async ({ ms, lifetime }) => {
    const sim = await startElementum({ port: 0 })
    onTestFinished(() => sim.close())
    sim.server.clock.advance(ms)
    const alias = `skew-${++n}`
    await control(sim.server, 'POST', '/seed', { alias, count: 30 })
    const ref = { connection: `elementum-skew-${n}`, stream: alias }
    const config = elementumConnectionSchema.parse({
      kind: 'elementum',
      baseUrl: sim.baseUrl,
      auth: { mode: 'oauth2-client-credentials', clientId: sim.credentials.clientId, clientSecret: sim.credentials.clientSecret },
      streams: { [alias]: { recordType: 'tasks', alias } },
    })
    const sync = syncer(ref, config, lifetime)
    expect(await sync()).toMatchObject({ status: 'succeeded', seen: 30 })

    for (const edits of [
      ['TSK-2', 'TSK-9', 'TSK-14', 'TSK-22', 'TSK-30'],
      ['TSK-4', 'TSK-9'],
    ]) {
      for (const id of edits) await control(sim.server, 'POST', `/records/tasks/${alias}/${id}/edit`, { Title: `${id} edited at ${sim.server.clock.nowIso()}` })
      const next = await sync()
      expect(next).toMatchObject({ status: 'succeeded', changed: edits.length })
      const sorted = [...edits].sort()
      expect(await titles(ref, sorted)).toEqual(sorted.map((id) => `${id} ${sim.store.find('tasks', alias, id)?.data.Title}`))
    }
  })

  it.each(CASES)(
    "elean $skew, $lifetime: the comments of a task edited after a sync are read by the next, before the round-robin's",
    async ({ ms, lifetime }) => {
      const sim = await startElean({ port: 0, perMinute: 0 })
      onTestFinished(() => sim.close())
      sim.server.clock.advance(ms)
      await control(sim.server, 'POST', '/seed', { project: 'web', count: 10 })
      const ref = { connection: `elean-skew-${++n}`, stream: 'web' }
      const config = eleanConnectionSchema.parse({
        kind: 'elean',
        baseUrl: sim.baseUrl,
        auth: { mode: 'bearer', token: sim.credentials.apiKey },
        // two comment reads a scan: the edited task must win one as changed, since its round-robin turn is far
        commentsPerScan: 2,
        streams: { web: { project: 'web' } },
      })
      const sync = syncer(ref, config, lifetime)
      expect(await sync()).toMatchObject({ status: 'succeeded', seen: 10 })

      const tasks = ((await control(sim.server, 'GET', '/tasks/web')).tasks as any[]).filter((t) => t.parentId === null)
      const target = tasks[7]
      await control(sim.server, 'POST', `/tasks/web/${target.id}/edit`, { title: 'Edited, with a comment' })
      await control(sim.server, 'POST', `/tasks/web/${target.id}/comments`, { content: 'Please look at this' })
      expect(await sync()).toMatchObject({ status: 'succeeded', changed: 1 })
      const comments = await db.sql`select body from elsync.comments where connection = ${ref.connection} and remote_id = ${target.id}`
      expect(comments.map((c) => c.body)).toEqual(['Please look at this'])
    },
  )
})
