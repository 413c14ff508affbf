import { afterAll, describe, expect, it } from 'vitest'
import { simControl } from '../support/writers.js'
import { elementumToElean, startTwoWay } from '../support/two-way.js'

/**
 * Writes a vendor refuses for good are parked `dead` at their first attempt, never retried:
 * a client without write permission on the record type (403), and a mapping whose field the
 * record type does not define (a misspelling: 400 naming the field).
 */
const w = await startTwoWay({
  elementum: 3,
  elean: { web: 2, ops: 1 },
  mappings: [
    elementumToElean([{ left: 'Title', right: 'title' }]),
    {
      id: 'misspelled',
      left: { connection: 'elementum', stream: 'it-requests' },
      right: { connection: 'elean', stream: 'ops' },
      create: 'right-to-left',
      fields: [
        { left: 'Title', right: 'title' },
        { left: 'Stauts', right: 'status', direction: 'right-to-left' },
      ],
    },
  ],
})
afterAll(() => w.close())

const writes = (mapping: string) =>
  w.db.sql<{ op: string; state: string; attempts: number; error_code: string | null; last_error: string | null; api_status: number | null }[]>`
    select op, state, attempts, error_code, last_error, api_status from elsync.writes where mapping_id = ${mapping} and state <> 'sent' order by write_id`
const served = (route: RegExp) =>
  Object.entries(w.elementum.server.stats().byRoute)
    .filter(([r]) => route.test(r))
    .map(([, byStatus]) => byStatus)

describe('writes refused for good', () => {
  it('a field the record type does not define: the create is refused naming it, dead at once', { timeout: 120_000 }, async () => {
    const first = await w.cycle()
    expect(first.pushed.dead).toBe(1)
    expect(await writes('misspelled')).toEqual([
      {
        op: 'create',
        state: 'dead',
        attempts: 1,
        error_code: 'rejected',
        api_status: 400,
        last_error: expect.stringMatching(/field Stauts.*Unknown field "Stauts"/),
      },
    ])
    expect(await writes('it-requests')).toEqual([])
  })

  it('403, a client without write permission on the record type: dead at once, never retried', { timeout: 120_000 }, async () => {
    await w.cycle()
    const [pair] = await w.db.sql<{ l: string; r: string }[]>`
      select left_remote_id as l, right_remote_id as r from elsync.links where mapping_id = 'it-requests' and right_remote_id is not null order by link_id limit 1`
    await simControl(w.elementum.server.url, 'PUT', '/permissions/tasks/it-requests', { write: false })
    const task = w.elean.store.findTask(w.elean.store.project('web')!, pair!.r)!
    w.elean.store.editTask(task, { title: 'Renamed in Elean' }, 'always')
    w.elementum.server.resetStats()

    const refused = await w.cycle()
    expect(refused.pushed).toMatchObject({ sent: 0, dead: 1, failed: 0 })
    expect(await writes('it-requests')).toEqual([
      { op: 'update', state: 'dead', attempts: 1, error_code: 'forbidden', api_status: 403, last_error: expect.stringMatching(/write permission/) },
    ])
    // one request, and a later drain does not send it again
    await w.app.executor.drain(AbortSignal.timeout(30_000))
    expect(served(/^PUT \/v1\/:recordType\/:alias\/:id$/)).toEqual([{ 403: 1 }])
    expect(w.elementum.store.find('tasks', 'it-requests', pair!.l)?.data.Title).not.toBe('Renamed in Elean')
    await simControl(w.elementum.server.url, 'PUT', '/permissions/tasks/it-requests', { write: true })
  })
})
