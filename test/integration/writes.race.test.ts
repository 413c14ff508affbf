import { afterAll, describe, expect, it } from 'vitest'
import { elementumToElean, startTwoWay } from '../support/two-way.js'

/**
 * A person edits the target record after reconcile queued an update of it and before the
 * executor sends it. The push must not overwrite that newer value unseen: the executor reads
 * the target first and leaves the moved field out, and the next reconcile merges the two
 * edits as a conflict (here `manual`: both values wait for an admin, neither is lost).
 */
const w = await startTwoWay({
  elementum: 3,
  mappings: [
    elementumToElean(
      [
        { left: 'Title', right: 'title' },
        { left: 'Description', right: 'description' },
      ],
      { conflict: 'manual' },
    ),
  ],
})
afterAll(() => w.close())

const signal = () => AbortSignal.timeout(60_000)
const pollAndReconcile = async () => {
  await w.app.pollPass({ mode: 'incremental', signal: signal() })
  const [r] = await w.app.reconcilePass({ signal: signal() })
  expect(r?.error).toBeNull()
  return r?.summary
}
const web = () => w.elean.store.project('web')!
const pairOf = async (left: string) =>
  (await w.db.sql<{ r: string }[]>`select right_remote_id as r from elsync.links where mapping_id = 'it-requests' and left_remote_id = ${left}`)[0]!.r
const conflicts = (left: string) =>
  w.db.sql`select field, left_value, right_value, winner, state from elsync.conflicts where mapping_id = 'it-requests' and left_remote_id = ${left}`

describe('a person’s edit of the target between reconcile and push', () => {
  it('links the records first', { timeout: 60_000 }, async () => {
    await w.cycle()
    await w.cycle()
    expect(web().topLevel).toHaveLength(3)
  })

  it('is not overwritten: the moved field is left out of the push and becomes a conflict; the rest is sent', { timeout: 60_000 }, async () => {
    const task = web().tasks.get(await pairOf('TSK-1'))!
    w.elementum.store.update(w.elementum.store.find('tasks', 'it-requests', 'TSK-1')!, { Title: 'Title from Elementum', Description: 'Details from Elementum' })
    const planned = await pollAndReconcile()
    expect(planned?.requests).toMatchObject([{ target: 'right', values: { title: 'Title from Elementum', description: 'Details from Elementum' } }])

    // a person renames the Elean task before the executor gets to it
    w.elean.store.editTask(task, { title: 'Title from a person in Elean' }, 'if-changed')
    const pushed = await w.app.executor.drain(signal())
    expect(pushed).toMatchObject({ sent: 1, dead: 0 })
    expect(task.title).toBe('Title from a person in Elean')
    expect(task.description).toBe('Details from Elementum')
    const [write] = await w.db
      .sql`select state, field_values, error_code, last_error from elsync.writes where mapping_id = 'it-requests' order by write_id desc limit 1`
    expect(write).toMatchObject({ state: 'sent', field_values: { description: 'Details from Elementum' }, error_code: 'target_changed' })
    expect(write?.last_error).toMatch(/title \(was ".*", now "Title from a person in Elean"; would have written "Title from Elementum"\)/)

    // the next sync sees both edits: a conflict, held for an admin; nothing is overwritten on either side
    const before = w.writeCount()
    await w.cycle()
    expect(await conflicts('TSK-1')).toEqual([
      { field: 'Title ↔ title', left_value: 'Title from Elementum', right_value: 'Title from a person in Elean', winner: null, state: 'open' },
    ])
    expect(w.writeCount() - before).toBe(0)
    expect(w.elementum.store.find('tasks', 'it-requests', 'TSK-1')?.data.Title).toBe('Title from Elementum')
    expect(task.title).toBe('Title from a person in Elean')
  })

  it('nothing is sent when every field moved; a poll that saw the edit first makes the same conflict', { timeout: 60_000 }, async () => {
    const task = web().tasks.get(await pairOf('TSK-2'))!
    w.elementum.store.update(w.elementum.store.find('tasks', 'it-requests', 'TSK-2')!, { Title: 'Second title from Elementum' })
    await pollAndReconcile()
    w.elean.store.editTask(task, { title: 'Second title from a person' }, 'if-changed')
    // this time a poll and a reconcile run before the push: the merge sees the edit cross the queued write
    const merged = await pollAndReconcile()
    expect(merged?.conflicts).toEqual([expect.objectContaining({ field: 'Title ↔ title', winner: null })])

    const before = w.writeCount()
    const pushed = await w.app.executor.drain(signal())
    expect(pushed).toMatchObject({ sent: 1, dead: 0 })
    // the target was read, nothing written
    expect(w.writeCount() - before).toBe(0)
    expect(task.title).toBe('Second title from a person')
    const [write] = await w.db.sql`select state, error_code from elsync.writes where mapping_id = 'it-requests' order by write_id desc limit 1`
    expect(write).toEqual({ state: 'ignored', error_code: 'target_changed' })
    expect(await conflicts('TSK-2')).toEqual([
      expect.objectContaining({ left_value: 'Second title from Elementum', right_value: 'Second title from a person', state: 'open' }),
    ])
  })
})
