import { afterAll, describe, expect, it } from 'vitest'
import { elsyncSync, startBidiWorld } from '../support/bidi-world.js'
import { createTestDb } from '../support/db.js'

/**
 * Hostile payloads with traffic both ways (issue 13): people type NUL bytes, paste a megabyte,
 * write titles the other vendor refuses, and pick absurd dates. Each value is stored or
 * refused with a clear error naming what was wrong; the runs never crash; every record stays
 * mirrored; and an ordinary edit made at the same time still arrives.
 */

const db = await createTestDb()
const world = await startBidiWorld(db, { seed: 41, left: 8, right: 6 })
afterAll(() => world.close())

interface Pair {
  left: string
  right: string
}

describe('hostile payloads, both ways', () => {
  it('are stored or refused with a clear error, and nothing else suffers', { timeout: 400_000 }, async () => {
    const first = await elsyncSync(world)
    expect(first.code, first.output.slice(-2000)).toBe(0)
    const pairs = await db.sql<Pair[]>`select left_remote_id as left, right_remote_id as right from elsync.links
      where mapping_id = 'it-requests' and left_remote_id is not null and right_remote_id is not null order by created_at, left_remote_id`
    expect(pairs.length).toBeGreaterThanOrEqual(8)
    const ns = world.elementum.store.namespace('tasks', 'it-requests')!
    const project = world.elean.store.project('web')!
    const left = (i: number) => ns.byId.get(pairs[i]!.left)!
    const right = (i: number) => project.tasks.get(pairs[i]!.right)!

    const megabyte = 'x'.repeat(1024 * 1024)
    world.elementum.store.update(left(0), { Title: 'Printer\u0000 on fire' })
    world.elementum.store.update(left(1), { Description: megabyte })
    world.elementum.store.update(left(2), { Title: 'T'.repeat(600) }) // Elean refuses titles over 500 characters
    world.elementum.store.update(left(3), { 'Due Date': '9999-12-31' })
    world.elean.store.editTask(right(4), { title: 'Router\u0000 down' }, 'always')
    world.elean.store.editTask(right(5), { description: `${'é'.repeat(300_000)}\u0000end` }, 'always')
    world.elean.store.editTask(right(6), { dueDate: '0001-01-01' }, 'always')
    // and an ordinary edit beside them
    world.elementum.store.update(left(7), { Title: 'Quite ordinary' })

    const runs = []
    for (let i = 0; i < 3; i++) runs.push(await elsyncSync(world))
    const output = runs.map((r) => r.output).join('\n')
    // never a crash: every run ends by itself, with no unhandled error or stack trace
    for (const r of runs) expect([r.signal, r.code === 0 || r.code === 1], r.output.slice(-3000)).toEqual([null, true])
    expect(output).not.toMatch(/Unhandled|\n\s+at .+\(.+:\d+:\d+\)/)

    // the ordinary edit arrived
    expect(right(7).title).toBe('Quite ordinary')
    // every record of both simulators is mirrored and live
    const [mirrored] = await db.sql<{ left: number; right: number }[]>`
      select count(*) filter (where connection = 'elementum')::int as left, count(*) filter (where connection = 'elean')::int as right
      from elsync.records where deleted_at is null and ((connection = 'elementum' and stream = 'it-requests') or (connection = 'elean' and stream = 'web'))`
    expect(mirrored).toEqual({ left: ns.order.length, right: project.topLevel.length })
    // NUL bytes are stripped in the mirror and in what is written; the megabyte is stored whole
    const stored = async (connection: string, id: string) =>
      (
        await db.sql<{ title: string; description: string | null }[]>`
        select title, document->>'description' as description from elsync.records where connection = ${connection} and remote_id = ${id}`
      )[0]
    expect((await stored('elementum', pairs[0]!.left))?.title).toBe('Printer on fire')
    expect(right(0).title).toBe('Printer on fire')
    expect(left(4).data.Title).toBe('Router down')
    expect(right(1).description?.length).toBe(megabyte.length)

    // what cannot be written is refused with the vendor's reason, visible to analysts, and the record waits
    const refused = await db.sql<{ target: string; state: string; error: string | null }[]>`
      select remote_id as target, state, concat_ws(': ', error_code, last_error) as error from elsync.writes
      where state in ('failed', 'dead') order by write_id`
    const tooLong = refused.find((r) => r.target === pairs[2]!.right)
    expect(tooLong?.error, JSON.stringify(refused)).toMatch(/title/i)
    expect(right(2).title).not.toBe('T'.repeat(600))
    // absurd but valid dates travel as they are
    expect(right(3).dueDate).toMatch(/^9999-12-31/)
    expect(left(6).data['Due Date']).toMatch(/^0001-01-01/)
  })
})
