import { afterAll, describe, expect, it } from 'vitest'
import { startElean } from '../../src/sim/elean/index.js'
import { startElementum } from '../../src/sim/elementum/index.js'
import { seedNamespace } from '../../src/sim/elementum/seed.js'
import { API_USER, DIRECTORY_USERS } from '../../src/sim/elementum/users.js'
import { createTestDb } from '../support/db.js'
import { createExampleApp } from '../support/example-app.js'
import { captureLogs } from '../support/logs.js'
import { simControl } from '../support/writers.js'

/**
 * "Who changed the status?" — the mirror keeps who created and who last changed each record
 * where the system says (Elementum's `Created by` / `Updated by`), names the actor of every
 * history row, and tells elsync's own writes apart by source `push` and their mapping.
 */
const db = await createTestDb()
const elementum = await startElementum({ port: 0, seed: 5 })
const elean = await startElean({ port: 0, seed: 5, perMinute: 0 })
afterAll(async () => Promise.all([elementum.close(), elean.close()]))
seedNamespace(elementum.store, 'tasks', 'it-requests', 3, 5)
elean.store.seed('web', 2, 5)

const logs = captureLogs([elean.credentials.apiKey!, elementum.credentials.clientSecret!])
const app = await createExampleApp({ db, elementum, elean, logs })

async function cycle(): Promise<void> {
  const signal = AbortSignal.timeout(120_000)
  for (const r of await app.pollPass({ mode: 'incremental', signal })) expect(r.status, `${r.stream.connection}: ${JSON.stringify(r.error)}`).toBe('succeeded')
  await app.reconcilePass({ signal })
  expect((await app.executor.drain(signal)).dead).toBe(0)
}

interface HistoryRow {
  connection: string
  remote_id: string
  version: number
  op: string
  changed: Record<string, { old: unknown; new: unknown }>
  source: string
  actor: string | null
  mapping_id: string | null
  changed_at: string | null
}
const historyOf = (connection: string, remoteId: string) =>
  db.sql<HistoryRow[]>`select connection, remote_id, version, op, changed, source, actor, mapping_id, changed_at from elsync.record_history
    where connection = ${connection} and remote_id = ${remoteId} order by version`

describe('who changed a record', () => {
  const grace = DIRECTORY_USERS[1]!

  it('mirrors the creator and the last updater Elementum names, and the simulator sets them as the docs say', { timeout: 120_000 }, async () => {
    await cycle()
    const rows = await db.sql<{ remote_id: string; created_by: string | null; updated_by: string | null; fields: Record<string, unknown> }[]>`
      select remote_id, created_by, updated_by, fields from elsync.records_current where connection = 'elementum' order by remote_id`
    const seeded = rows.filter((r) => /^TSK-[123]$/.test(r.remote_id))
    expect(seeded).toHaveLength(3)
    for (const r of seeded) {
      const data = elementum.store.find('tasks', 'it-requests', r.remote_id)!.data
      expect(r).toMatchObject({ created_by: data['Created by'], updated_by: data['Updated by'] })
      expect(DIRECTORY_USERS.map((u) => u.email)).toContain(r.created_by)
      expect(Object.keys(r.fields)).not.toEqual(expect.arrayContaining(['Created by']))
    }
    // the records elsync created there from Elean's are attributed to the API user, by Elementum itself
    const created = rows.filter((r) => !seeded.includes(r))
    expect(created.length).toBe(2)
    for (const r of created) expect(r).toMatchObject({ created_by: API_USER.email, updated_by: API_USER.email })
    // Elean names no one: the columns stay empty
    const [elean] = await db.sql`select count(*)::int as n, count(created_by)::int as named from elsync.records_current where connection = 'elean'`
    expect(elean?.n).toBeGreaterThan(2)
    expect(elean?.named).toBe(0)
  })

  it("names the person behind a status change, and marks the change elsync's push made on the other side with its mapping", { timeout: 120_000 }, async () => {
    const [link] = await db.sql<{ l: string; r: string }[]>`
      select left_remote_id as l, right_remote_id as r from elsync.links where mapping_id = 'it-requests' and left_remote_id = 'TSK-1'`
    expect(link).toBeDefined()
    const before = elementum.store.find('tasks', 'it-requests', 'TSK-1')!.data.Status
    const to = before === 'In Progress' ? 'Open' : 'In Progress'
    await simControl(elementum.server.url, 'POST', '/records/tasks/it-requests/TSK-1/edit', { fields: { Status: to }, author: grace.email })
    await cycle()

    const left = (await historyOf('elementum', 'TSK-1')).at(-1)
    expect(left).toMatchObject({ op: 'update', source: 'poll', actor: grace.email, mapping_id: null })
    expect(left?.changed.status).toEqual({ old: before, new: to })
    // the actor is a column of its own, not a changed field
    expect(Object.keys(left?.changed ?? {})).not.toContain('updated_by')
    expect(new Date(left?.changed_at ?? 0).toISOString()).toBe(elementum.store.find('tasks', 'it-requests', 'TSK-1')!.data['Updated on'])

    const right = (await historyOf('elean', link!.r)).at(-1)
    expect(right).toMatchObject({ op: 'update', source: 'push', mapping_id: 'it-requests', actor: null })
    expect(right?.changed).toHaveProperty('status')
  })

  it('keeps the actor out of a change that only re-saved the record', { timeout: 120_000 }, async () => {
    const versions = (await historyOf('elementum', 'TSK-2')).length
    // a save in the web UI that changes no value: Updated on and Updated by move, nothing else
    await simControl(elementum.server.url, 'POST', '/records/tasks/it-requests/TSK-2/edit', { fields: {}, author: grace.email })
    await cycle()
    expect((await historyOf('elementum', 'TSK-2')).length).toBe(versions)
    const [row] = await db.sql`select updated_by from elsync.records_current where connection = 'elementum' and remote_id = 'TSK-2'`
    expect(row?.updated_by).toBe(grace.email)
  })
})
