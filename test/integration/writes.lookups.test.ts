import { afterAll, describe, expect, it } from 'vitest'
import { elementumToElean, startTwoWay } from '../support/two-way.js'

/**
 * A value map kept in an elastic.io lookup table (`valuesFrom`), read through the elasticio
 * connection at each reconcile: Elementum statuses ↔ Elean statuses, end to end. An edit of
 * the table changes what the next reconcile writes; a value the table lacks is an error for
 * that record alone; a table that is gone stops the mapping, naming it, and loses nothing.
 */
const TABLE = 'Elementum to Elean status'
const w = await startTwoWay({
  elasticio: true,
  elementum: 4,
  mappings: [
    elementumToElean([
      { left: 'Title', right: 'title' },
      { left: 'Status', right: 'status', valuesFrom: { connection: 'elasticio', lookup: TABLE } },
    ]),
  ],
})
afterAll(() => w.close())

const lookups = w.elasticio!.store
const table = lookups.create('lookups', { title: TABLE, data: { Open: 'To Do', 'In Progress': 'In Progress', Closed: 'Done' } })
const statuses = ['Open', 'In Progress', 'Closed', 'Cancelled']
for (const [i, status] of statuses.entries()) w.elementum.store.update(w.elementum.store.find('tasks', 'it-requests', `TSK-${i + 1}`)!, { Status: status })

const web = () => w.elean.store.project('web')!
const statusOf = (taskId: string) => web().statuses.find((s) => s.id === web().tasks.get(taskId)?.statusId)?.name
const counterpart = async (left: string) =>
  (await w.db.sql<{ r: string }[]>`select right_remote_id as r from elsync.links where mapping_id = 'it-requests' and left_remote_id = ${left}`)[0]?.r
const lookupReads = () => w.elasticio!.server.stats().byRoute['GET /v2/:resource']?.['200'] ?? 0

describe('a value map from an elastic.io lookup table', () => {
  it('maps values through the table end to end; a value it lacks is an error for that record only', { timeout: 120_000 }, async () => {
    const first = await w.cycle()
    const summary = first.reconciled[0]?.summary
    expect(summary?.errors).toEqual([
      expect.objectContaining({ remoteId: 'TSK-4', field: 'Status ↔ status', code: 'unmappable_value', message: expect.stringMatching(/Cancelled/) }),
    ])
    expect(first.pushed).toMatchObject({ sent: 4, dead: 0 })
    await w.cycle()
    expect(await Promise.all(['TSK-1', 'TSK-2', 'TSK-3'].map(async (id) => statusOf((await counterpart(id))!)))).toEqual(['To Do', 'In Progress', 'Done'])
    // the record whose value the table lacks was created and linked, and its own status is untouched
    expect(await counterpart('TSK-4')).toBeDefined()
    expect(w.elementum.store.find('tasks', 'it-requests', 'TSK-4')?.data.Status).toBe('Cancelled')
  })

  it('an edit of the table changes what the next reconcile writes, and costs one read of the lookups per reconcile', { timeout: 120_000 }, async () => {
    lookups.update('lookups', table.id, { title: TABLE, data: { Open: 'To Do', 'In Progress': 'In Progress', Closed: 'In Review' } })
    w.elementum.store.update(w.elementum.store.find('tasks', 'it-requests', 'TSK-1')!, { Status: 'Closed' })
    const reads = lookupReads()
    await w.cycle()
    expect(statusOf((await counterpart('TSK-1'))!)).toBe('In Review')
    expect(lookupReads() - reads).toBe(1)

    // and back: In Review in Elean is Closed in Elementum by the same table
    w.elean.store.editTask(web().tasks.get((await counterpart('TSK-2'))!)!, { statusId: web().statuses.find((s) => s.name === 'In Review')!.id }, 'always')
    await w.cycle()
    expect(w.elementum.store.find('tasks', 'it-requests', 'TSK-2')?.data.Status).toBe('Closed')
  })

  it('a table that is gone stops the mapping with an error naming it; nothing is lost once it is back', { timeout: 120_000 }, async () => {
    lookups.update('lookups', table.id, { title: 'Renamed by someone', data: table.attributes.data })
    const taskId = (await counterpart('TSK-3'))!
    w.elean.store.editTask(web().tasks.get(taskId)!, { title: 'Edited while the table was missing' }, 'always')
    const before = w.writeCount()

    const stopped = await w.cycle({ expectOk: false })
    expect(stopped.reconciled[0]?.error).toEqual({
      code: 'lookup_not_found',
      message: `mapping it-requests fields[1].valuesFrom: lookup table "${TABLE}" of connection elasticio: connection elasticio has no lookup table with id or title "${TABLE}"`,
    })
    expect(w.writeCount() - before).toBe(0)

    // the table back: the edit made meanwhile still arrives
    lookups.update('lookups', table.id, { title: TABLE, data: table.attributes.data })
    await w.cycle()
    expect(w.elementum.store.find('tasks', 'it-requests', 'TSK-3')?.data.Title).toBe('Edited while the table was missing')
  })
})
