import { beforeAll, describe, expect, it } from 'vitest'
import { createPgMirror } from '../../src/db/mirror.store.js'
import { createPgOutboxStore } from '../../src/db/outbox.store.js'
import { createPgReconcileStore } from '../../src/db/reconcile.store.js'
import type { Link, OutboxRequest } from '../../src/engine/write.types.js'
import { createTestDb } from '../support/db.js'
import { mapping, request } from '../support/write.js'

/** The analyst views of the write side, over rows written through the stores as reconcile and push write them. */

const db = await createTestDb()
const { sql } = db
const m = mapping('v')
const store = createPgReconcileStore(sql, { mappings: [m] })
const outbox = createPgOutboxStore(sql)
const lease = { leaseMs: 60_000, limit: 1 }

const link = (left: string, right: string | null) =>
  store.transaction((tx) => tx.createLink('v', { leftRemoteId: left, rightRemoteId: right, state: right ? 'linked' : 'creating', base: {} }))
const enqueue = (req: OutboxRequest) => store.transaction((tx) => tx.enqueue(req))
/** Claims exactly the row `id` (it is the only one ready) and returns it. */
async function claim(id: number, owner = 'x') {
  const [row] = await outbox.claim({ owner, ...lease })
  expect(row?.id).toBe(id)
  return row as NonNullable<typeof row>
}
async function deadWrite(l: Link) {
  const id = await enqueue(request('v', l.id))
  await outbox.markFailed(await claim(id), 'x', { code: 'http_400', message: 'unknown field Colour', status: 400, retryAt: null })
}

beforeAll(async () => {
  const mirror = createPgMirror(sql)
  for (const [stream, ids] of [
    [m.left, ['TSK-1', 'TSK-2', 'TSK-3', 'TSK-4', 'TSK-5', 'TSK-6', 'TSK-7']],
    [m.right, ['u-1', 'u-2', 'u-3', 'u-4', 'u-6']],
  ] as const) {
    const run = await mirror.startRun(stream, 'incremental')
    await mirror.applyPage(stream, { records: ids.map((id) => ({ remoteId: id, title: `Task ${id}`, document: { id } })) }, { runId: run })
    await mirror.finishRun(run, { status: 'succeeded', pages: 1, recordsSeen: ids.length, recordsChanged: ids.length, recordsDeleted: 0, requests: 1 })
  }
  // rows that go through the executor first, so that each claim finds only its own row
  // TSK-3: its update was refused for good
  await deadWrite(await link('TSK-3', 'u-3'))
  // TSK-6: a dead update, then a later one that went through
  const l6 = await link('TSK-6', 'u-6')
  await deadWrite(l6)
  const later = await enqueue(request('v', l6.id, { values: { status: 'Done' } }))
  await outbox.markSent(await claim(later), 'x', { remoteId: 'u-6', record: null, status: 200 })
  // TSK-7: created on the right by a push
  const create = await enqueue(request('v', (await link('TSK-7', null)).id, { op: 'create', remoteId: null, values: { title: 'Task TSK-7', status: 'To Do' } }))
  await outbox.markSent(await claim(create), 'x', { remoteId: 'NEW-7', record: { remoteId: 'NEW-7', title: 'Task TSK-7', document: {} }, status: 201 })
  // TSK-1: linked, nothing to do
  await link('TSK-1', 'u-1')
  // TSK-2: an update waits for the executor
  await enqueue(request('v', (await link('TSK-2', 'u-2')).id))
  // TSK-4: both sides changed the status, an admin must choose
  const l4 = await link('TSK-4', 'u-4')
  await store.transaction((tx) =>
    tx.recordConflict(l4.id, 'v', {
      field: 'Status',
      leftValue: 'Closed',
      rightValue: 'Blocked',
      base: { left: 'Open', right: 'To Do' },
      policy: 'manual',
      winner: null,
    }),
  )
  // TSK-5: its counterpart is being created
  await enqueue(request('v', (await link('TSK-5', null)).id, { op: 'create', remoteId: null, marker: 'elsync:v:5' }))
})

const columns = async (view: string) =>
  (
    await sql<
      { column_name: string }[]
    >`select column_name from information_schema.columns where table_schema = 'elsync' and table_name = ${view} order by ordinal_position`
  ).map((c) => c.column_name)

describe('the write side’s analyst views', () => {
  it('links: the documented columns first, and each link with its state and streams', async () => {
    expect((await columns('links')).slice(0, 5)).toEqual(['mapping_id', 'left_remote_id', 'right_remote_id', 'created_at', 'last_synced_at'])
    const rows = await sql`select * from elsync.links where mapping_id = 'v' order by left_remote_id`
    expect(rows).toHaveLength(7)
    expect(rows.find((r) => r.left_remote_id === 'TSK-7')).toMatchObject({
      right_remote_id: 'NEW-7',
      state: 'linked',
      last_synced_at: expect.anything(),
      left_connection: 'elementum',
      left_stream: 'it-v',
      right_connection: 'elean',
      right_stream: 'web-v',
    })
    expect(rows.find((r) => r.left_remote_id === 'TSK-5')).toMatchObject({ right_remote_id: null, state: 'creating' })
  })

  it('conflicts: both values, the base, the policy and the decision', async () => {
    const rows = await sql`select * from elsync.conflicts where mapping_id = 'v'`
    expect(rows).toEqual([
      expect.objectContaining({
        left_remote_id: 'TSK-4',
        right_remote_id: 'u-4',
        field: 'Status',
        left_value: 'Closed',
        right_value: 'Blocked',
        base: { left: 'Open', right: 'To Do' },
        policy: 'manual',
        winner: null,
        state: 'open',
      }),
    ])
  })

  it('writes: the ledger of what was sent where, and what the API answered', async () => {
    const rows = await sql`select * from elsync.writes where mapping_id = 'v' order by write_id`
    expect(rows.map((r) => r.state)).toEqual(['dead', 'dead', 'sent', 'sent', 'pending', 'pending'])
    expect(rows.find((r) => r.op === 'create' && r.state === 'sent')).toMatchObject({
      target: 'right',
      connection: 'elean',
      stream: 'web-v',
      remote_id: 'NEW-7',
      fields: ['status', 'title'],
      field_values: { title: 'Task TSK-7', status: 'To Do' },
      api_status: 201,
      response_excerpt: JSON.stringify({ remoteId: 'NEW-7', title: 'Task TSK-7' }),
      attempts: 1,
      sent_at: expect.anything(),
    })
    expect(rows.find((r) => r.state === 'dead')).toMatchObject({ api_status: 400, error_code: 'http_400', last_error: 'unknown field Colour' })
    expect(rows[4]?.decisions).toEqual([expect.objectContaining({ field: 'status', rule: 'left-changed' })])
  })

  it('record_sync_state: one row per linked record, and `sync_state = error` is exactly what is stuck', async () => {
    const rows = await sql`select connection, stream, remote_id, side, counterpart_id, sync_state, pending_writes, open_conflicts, last_error
      from elsync.record_sync_state where mapping_id = 'v' order by side, remote_id`
    const state = Object.fromEntries(rows.map((r) => [r.remote_id, r.sync_state]))
    expect(state).toEqual({
      'TSK-1': 'linked',
      'TSK-2': 'pending',
      'TSK-3': 'error',
      'TSK-4': 'conflict',
      'TSK-5': 'pending',
      'TSK-6': 'linked',
      'TSK-7': 'linked',
      'u-1': 'linked',
      'u-2': 'pending',
      'u-3': 'error',
      'u-4': 'conflict',
      'u-6': 'linked',
      'NEW-7': 'linked',
    })
    expect(rows.find((r) => r.remote_id === 'TSK-7')).toMatchObject({ connection: 'elementum', stream: 'it-v', side: 'left', counterpart_id: 'NEW-7' })
    expect(rows.find((r) => r.remote_id === 'TSK-5')).toMatchObject({ counterpart_id: null, pending_writes: '1' })

    const stuck = await sql`select connection, stream, remote_id, last_error from elsync.record_sync_state where sync_state = 'error' order by connection`
    expect(stuck).toEqual([
      { connection: 'elean', stream: 'web-v', remote_id: 'u-3', last_error: 'http_400: unknown field Colour' },
      { connection: 'elementum', stream: 'it-v', remote_id: 'TSK-3', last_error: 'http_400: unknown field Colour' },
    ])
  })

  it('sync_status: keeps its columns in order and adds the outbox backlog and open conflicts per stream', async () => {
    expect(await columns('sync_status')).toEqual([
      'connection',
      'stream',
      'last_success_at',
      'lag',
      'last_status',
      'last_error',
      'errors_24h',
      'last_full_scan_at',
      'live_records',
      'outbox_backlog',
      'outbox_dead',
      'open_conflicts',
    ])
    const rows = await sql`select connection, stream, last_status, live_records::int, outbox_backlog::int, outbox_dead::int, open_conflicts::int
      from elsync.sync_status order by connection`
    expect(rows).toEqual([
      { connection: 'elean', stream: 'web-v', last_status: 'succeeded', live_records: 5, outbox_backlog: 2, outbox_dead: 2, open_conflicts: 1 },
      { connection: 'elementum', stream: 'it-v', last_status: 'succeeded', live_records: 7, outbox_backlog: 0, outbox_dead: 0, open_conflicts: 1 },
    ])
  })
})
