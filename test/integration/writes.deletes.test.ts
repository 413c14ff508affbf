import { afterAll, describe, expect, it } from 'vitest'
import { startTwoWay } from '../support/two-way.js'

/**
 * Deletes per mapping, between two Elean projects (Elean can delete; Elementum cannot, which
 * config load refuses for `propagate`): `propagate` deletes the counterpart, `unlink` forgets
 * the pairing and leaves the counterpart alone, and neither recreates anything.
 */
const pair = (id: string, left: string, right: string, del: string) => ({
  id,
  left: { connection: 'elean', stream: left },
  right: { connection: 'elean', stream: right },
  create: 'both',
  delete: del,
  fields: [
    { left: 'title', right: 'title' },
    { left: 'description', right: 'description' },
  ],
})
const w = await startTwoWay({
  elean: { web: 2, ops: 1, dev: 2, qa: 1 },
  // a deleted task is seen as deleted after one complete scan
  eleanConnection: { deleteAfterMissedScans: 1 },
  mappings: [pair('propagated', 'web', 'ops', 'propagate'), pair('unlinked', 'dev', 'qa', 'unlink')],
})
afterAll(() => w.close())

const project = (slug: string) => w.elean.store.project(slug)!
const titles = (slug: string) =>
  project(slug)
    .topLevel.map((t) => t.title)
    .sort()
const links = (mapping: string) =>
  w.db.sql<{ l: string; r: string | null; state: string }[]>`
    select left_remote_id as l, right_remote_id as r, state from elsync.links where mapping_id = ${mapping} order by link_id`

describe('deletes', () => {
  it('links every task of each pair first', { timeout: 120_000 }, async () => {
    await w.cycle()
    await w.cycle()
    for (const [a, b] of [
      ['web', 'ops'],
      ['dev', 'qa'],
    ] as const) {
      expect(titles(a)).toHaveLength(3)
      expect(titles(a)).toEqual(titles(b))
    }
  })

  it('propagate: a task deleted on one side is deleted on the other, and the link is unlinked', { timeout: 120_000 }, async () => {
    const [first] = await links('propagated')
    const web = project('web')
    const doomed = web.tasks.get(first!.l)!
    const counterpart = project('ops').tasks.get(first!.r!)!
    w.elean.store.deleteTask(web, doomed)

    await w.cycle()
    expect(project('ops').tasks.has(counterpart.id)).toBe(false)
    expect(titles('ops')).toEqual(titles('web'))
    const [deleted] = await w.db.sql`select op, state, remote_id, api_status from elsync.writes where mapping_id = 'propagated' and op = 'delete'`
    expect(deleted).toMatchObject({ op: 'delete', state: 'sent', remote_id: counterpart.id })
    expect((await links('propagated'))[0]).toMatchObject({ state: 'unlinked' })

    // the next scan sees the counterpart gone too; nothing more is written, nothing recreated
    const before = w.writeCount()
    await w.cycle()
    await w.cycle()
    expect(w.writeCount() - before).toBe(0)
    expect(titles('web')).toHaveLength(2)
    expect(titles('ops')).toEqual(titles('web'))
  })

  it('unlink: the counterpart stays, is never synced again, and is not recreated on the deleted side', { timeout: 120_000 }, async () => {
    const [first] = await links('unlinked')
    const dev = project('dev')
    w.elean.store.deleteTask(dev, dev.tasks.get(first!.l)!)
    const kept = project('qa').tasks.get(first!.r!)!

    const before = w.writeCount()
    await w.cycle()
    expect((await links('unlinked'))[0]).toMatchObject({ state: 'unlinked' })
    expect(project('qa').tasks.get(kept.id)).toBe(kept)
    w.elean.store.editTask(kept, { title: 'Edited after the unlink' }, 'always')
    await w.cycle()
    expect(w.writeCount() - before).toBe(0)
    expect(titles('dev')).toHaveLength(2)
    expect(titles('dev')).not.toContain('Edited after the unlink')
  })
})
