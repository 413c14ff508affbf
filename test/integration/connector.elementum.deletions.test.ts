import { describe, expect, it, onTestFinished } from 'vitest'
import { elementumConnectionSchema } from '../../src/connectors/elementum/index.js'
import { createElementum } from '../../src/connectors/elementum/index.js'
import { createPgMirror } from '../../src/db/mirror.store.js'
import { runStream } from '../../src/engine/poll.js'
import { createHttpClient } from '../../src/http/client.js'
import { startElementum } from '../../src/sim/elementum/index.js'
import { createTestDb } from '../support/db.js'
import { captureLogs } from '../support/logs.js'

// Elementum deletion detection: only a complete full scan may infer that a record is gone.

const db = await createTestDb()
const { sql } = db
const mirror = createPgMirror(sql)

describe('elementum connector: deletion detection', () => {
  it('soft-deletes exactly the record a human deleted on the next full run, and never on an incremental one', async () => {
    const alias = 'deletions'
    const sim = await startElementum({ port: 0 })
    onTestFinished(() => sim.close())
    const control = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${sim.server.url}/_sim${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
      expect(res.status, `${method} ${path}`).toBeLessThan(300)
    }
    await control('POST', '/seed', { alias, count: 30 })
    const config = elementumConnectionSchema.parse({
      kind: 'elementum',
      baseUrl: sim.baseUrl,
      timeoutMs: 2_000,
      auth: { mode: 'oauth2-client-credentials', clientId: sim.credentials.clientId, clientSecret: sim.credentials.clientSecret },
      streams: { [alias]: { recordType: 'tasks', alias } },
    })
    const logs = captureLogs()
    const http = createHttpClient(
      { name: 'elementum', baseUrl: config.baseUrl, auth: config.auth, timeoutMs: config.timeoutMs },
      { logger: logs.logger, redactor: logs.redactor, defaultTokenUrl: `${sim.server.url}/oauth/token`, retry: { attempts: 3, baseMs: 10, maxMs: 50 } },
    )
    const connector = createElementum({ name: 'elementum', config, http, logger: logs.logger }, { children: false })
    const stream = { connection: 'elementum', stream: alias }
    const run = (mode: 'full' | 'incremental') =>
      runStream(mirror, { stream, connector, mode, signal: AbortSignal.timeout(30_000), lookbackMs: 120_000, maxDeleteFraction: 0.1 })
    const live = async () =>
      (await sql`select remote_id from elsync.records_current where connection = 'elementum' and stream = ${alias} order by remote_id`).map(
        (r) => r.remote_id as string,
      )
    const deletes = async () =>
      (
        await sql`select remote_id, version from elsync.record_history where connection = 'elementum' and stream = ${alias} and op = 'delete' order by remote_id`
      ).map((r) => ({ ...r }))

    expect(await run('full')).toMatchObject({ status: 'succeeded', seen: 30, deleted: 0 })
    const all = await live()
    expect(all).toHaveLength(30)
    expect(all).toContain('TSK-7')

    await control('DELETE', `/records/tasks/${alias}/TSK-7`)
    // an incremental window cannot tell a deleted record from an unchanged one: nothing is deleted
    expect(await run('incremental')).toMatchObject({ status: 'succeeded', mode: 'incremental', deleted: 0 })
    expect(await live()).toEqual(all)
    expect(await deletes()).toEqual([])

    const full = await run('full')
    expect(full).toMatchObject({ status: 'succeeded', mode: 'full', seen: 29, deleted: 1 })
    expect(await live()).toEqual(all.filter((id) => id !== 'TSK-7'))
    expect(await deletes()).toEqual([{ remote_id: 'TSK-7', version: 2 }])
    // soft: the row stays, marked deleted
    const [row] =
      await sql`select deleted_at is not null as deleted from elsync.records where connection = 'elementum' and stream = ${alias} and remote_id = 'TSK-7'`
    expect(row?.deleted).toBe(true)

    // and a later incremental run leaves the deletion (and everything else) alone
    expect(await run('incremental')).toMatchObject({ status: 'succeeded', deleted: 0, changed: 0 })
    expect(await deletes()).toHaveLength(1)
  })
})
