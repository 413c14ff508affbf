import { afterAll, describe, expect, it } from 'vitest'
import { elementumToElean, startTwoWay } from '../support/two-way.js'

/**
 * A mapping's own create marker (`marker: acme`) is written into the records a push creates,
 * and stripped from the mirror's description like elsync's default one: it is never compared
 * as a change, so never copied back to the record the copy came from.
 */
const w = await startTwoWay({
  elementum: 4,
  elean: { web: 3 },
  mappings: [
    elementumToElean(
      [
        { left: 'Title', right: 'title' },
        { left: 'Description', right: 'description' },
      ],
      { marker: 'acme' },
    ),
  ],
})
afterAll(() => w.close())

const MARKER = /^acme:it-requests:\d+$/m

describe('a custom create marker', () => {
  it('marks the records a push creates, is never in the mirror, and never travels back', { timeout: 120_000 }, async () => {
    const first = await w.cycle()
    expect(first.pushed).toMatchObject({ sent: 7, dead: 0 })
    await w.cycle()

    // the vendors: every created record carries the marker, the originals never got one
    const ns = w.elementum.store.namespace('tasks', 'it-requests')!
    const left = ns.order.map((seq) => ns.bySeq.get(seq)!.data)
    const right = w.elean.store.project('web')!.topLevel
    expect(left.filter((d) => MARKER.test(d.Description ?? '')).map((d) => d.id)).toEqual(['TSK-5', 'TSK-6', 'TSK-7'])
    expect(right.filter((t) => MARKER.test(t.description ?? '')).length).toBe(4)

    // the mirror: no description shows it
    const mirrored = await w.db.sql<{ description: string | null }[]>`select description from elsync.records_current where description like '%acme:%'`
    expect(mirrored).toEqual([])

    const before = w.writeCount()
    await w.cycle()
    expect(w.writeCount() - before).toBe(0)
  })
})
