import { describe, expect, it } from 'vitest'
import { batches, mergePages, type PreparedPage } from '../../src/engine/batch.js'
import { prepareRecords } from '../../src/engine/record.js'
import type { Page, RemoteComment, RemoteRecord } from '../../src/engine/types.js'

const record = (remoteId: string, title: string): RemoteRecord => ({ remoteId, title, document: { id: remoteId, title } })
const comment = (parentRemoteId: string, commentId: string): RemoteComment => ({
  parentRemoteId,
  commentId,
  body: commentId,
  author: null,
  createdAt: null,
  document: {},
})
const prepared = (page: Page): PreparedPage => ({ page, records: prepareRecords(page.records) })
const numbered = (n: number, extra: Partial<Page> = {}): PreparedPage => prepared({ records: [record(`r${n}`, `t${n}`)], cursor: { page: n }, ...extra })

async function* from(items: PreparedPage[], failAfter?: number): AsyncGenerator<PreparedPage> {
  for (const [i, item] of items.entries()) {
    if (i === failAfter) throw new Error('page read failed')
    yield item
  }
}

async function collect(source: AsyncIterable<PreparedPage[]>): Promise<number[][]> {
  const out: number[][] = []
  for await (const batch of source) out.push(batch.map((b) => (b.page.cursor as { page: number }).page))
  return out
}

describe('batches', () => {
  it('groups pages by size, the last batch holding what is left', async () => {
    const pages = [1, 2, 3, 4, 5, 6, 7].map((n) => numbered(n))
    expect(await collect(batches(from(pages), 3))).toEqual([[1, 2, 3], [4, 5, 6], [7]])
    expect(await collect(batches(from(pages), 1))).toEqual([[1], [2], [3], [4], [5], [6], [7]])
  })

  it('starts a batch at a page that restarts the scan', async () => {
    const pages = [1, 2, 3, 4, 5].map((n) => numbered(n, n === 3 ? { restartScan: true } : {}))
    expect(await collect(batches(from(pages), 5))).toEqual([
      [1, 2],
      [3, 4, 5],
    ])
  })

  it("hands over the pages read before a source's error, then throws it", async () => {
    const pages = [1, 2, 3, 4].map((n) => numbered(n))
    const seen: number[][] = []
    const run = async () => {
      for await (const batch of batches(from(pages, 3), 5)) seen.push(batch.map((b) => (b.page.cursor as { page: number }).page))
    }
    await expect(run()).rejects.toThrow('page read failed')
    expect(seen).toEqual([[1, 2, 3]])
  })
})

describe('mergePages', () => {
  it('returns a lone page as it is', () => {
    const one = numbered(1)
    expect(mergePages([one])).toBe(one)
  })

  it('saves the pages as they would be saved in turn: records in order, the last cursor, the NUL count summed', () => {
    const withNul = prepared({ records: [record('r2', 'a\u0000b')] })
    expect(withNul.records.nulBytesStripped).toBeGreaterThan(0)
    const alsoNul = prepared({ records: [record('r4', 'c\u0000d\u0000')] })
    const merged = mergePages([numbered(1), withNul, numbered(3), alsoNul, prepared({ records: [] })])
    expect(merged.page.records.map((r) => r.remoteId)).toEqual(['r1', 'r2', 'r3', 'r4'])
    expect(merged.page.cursor).toEqual({ page: 3 }) // the last page that has one
    expect(merged.records.of).toBe(merged.page.records)
    expect(merged.records.rows.map((r) => r.remoteId)).toEqual(['r1', 'r2', 'r3', 'r4'])
    expect(merged.records.nulBytesStripped).toBe(withNul.records.nulBytesStripped + alsoNul.records.nulBytesStripped)
    expect(merged.page.restartScan).toBeUndefined()
  })

  it("keeps each parent's children as the last page that read them brought them", () => {
    const merged = mergePages([
      prepared({ records: [record('a', 'a')], comments: { parents: ['a', 'b'], items: [comment('a', 'c1'), comment('b', 'c2')] } }),
      prepared({ records: [record('b', 'b')], comments: { parents: ['b'], items: [] } }),
      prepared({ records: [], comments: { parents: ['c'], items: [comment('c', 'c3'), comment('d', 'c4')] } }),
    ])
    expect(merged.page.comments?.parents).toEqual(['a', 'b', 'c', 'd'])
    expect(merged.page.comments?.items.map((c) => c.commentId)).toEqual(['c1', 'c3', 'c4'])
    expect(merged.page.attachments).toBeUndefined()
  })

  it('keeps a record stale unless a later page read its children, and releases a quarantined id a later page brings good', () => {
    const merged = mergePages([
      prepared({ records: [], staleChildren: ['a', 'b'], quarantined: [{ remoteId: 'x', reason: 'bad', excerpt: '{}' }] }),
      prepared({ records: [record('x', 'x')], comments: { parents: ['a'], items: [] } }),
      prepared({
        records: [],
        staleChildren: ['c'],
        quarantined: [
          { remoteId: 'y', reason: 'bad', excerpt: '{}' },
          { remoteId: null, reason: 'no id', excerpt: '{}' },
        ],
      }),
    ])
    expect(merged.page.staleChildren).toEqual(['b', 'c'])
    expect(merged.page.quarantined?.map((q) => q.remoteId)).toEqual(['y', null])
  })

  it('releases a record the mirror refused on one page when a later page stores it, and keeps a quarantine a later page cannot release', () => {
    const deep: Record<string, unknown> = {}
    let at = deep
    for (let i = 0; i < 300; i += 1) at = at.next = {} as Record<string, unknown>
    const refused = (id: string): RemoteRecord => ({ remoteId: id, title: id, document: deep })
    const first = prepared({ records: [refused('x'), refused('y')], quarantined: [{ remoteId: 'z', reason: 'bad', excerpt: '{}' }] })
    expect(first.records.failed.map((f) => f.record.remoteId)).toEqual(['x', 'y'])
    // x comes back good; z comes back but cannot be stored either, so its first quarantine stays
    const merged = mergePages([first, prepared({ records: [record('x', 'x'), refused('z')] })])
    expect(merged.records.failed.map((f) => f.record.remoteId)).toEqual(['y', 'z'])
    expect(merged.page.quarantined?.map((q) => [q.remoteId, q.reason])).toEqual([['z', 'bad']])
    expect(merged.records.rows.map((r) => r.remoteId)).toEqual(['x'])
  })

  it('restarts the scan when its first page does, and refuses a restart on a later page (too late to clear membership)', () => {
    expect(mergePages([numbered(1, { restartScan: true }), numbered(2)]).page.restartScan).toBe(true)
    expect(() => mergePages([numbered(1), numbered(2, { restartScan: true })])).toThrow(/must start its batch/)
  })
})
