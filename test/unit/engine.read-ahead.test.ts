import { describe, expect, it } from 'vitest'
import { readAhead } from '../../src/engine/read-ahead.js'

/** A source that logs when each item is asked for and handed over, and may fail at one item. */
function source(n: number, log: string[], failAt?: number) {
  return (async function* () {
    try {
      for (let i = 1; i <= n; i++) {
        log.push(`read ${i}`)
        await new Promise((r) => setImmediate(r))
        if (i === failAt) throw new Error(`item ${i} failed`)
        yield i
      }
    } finally {
      log.push('closed')
    }
  })()
}

describe('readAhead', () => {
  it('reads the next item while the consumer handles one, never more than depth ahead, in order', async () => {
    // the source ends (and closes) while the consumer handles its last item
    const log: string[] = []
    for await (const item of readAhead(source(4, log), 1)) {
      await new Promise((r) => setTimeout(r, 5))
      log.push(`handled ${item}`)
    }
    expect(log).toEqual(['read 1', 'read 2', 'handled 1', 'read 3', 'handled 2', 'read 4', 'handled 3', 'closed', 'handled 4'])
  })

  it("surfaces the source's error after every item read before it", async () => {
    const log: string[] = []
    const handled: number[] = []
    const run = async () => {
      for await (const item of readAhead(source(5, log, 3), 1)) {
        await new Promise((r) => setTimeout(r, 5))
        handled.push(item)
      }
    }
    await expect(run()).rejects.toThrow('item 3 failed')
    expect(handled).toEqual([1, 2])
    expect(log).not.toContain('read 4')
  })

  it('closes the source when the consumer stops, having read at most depth items it did not take', async () => {
    const log: string[] = []
    const run = async () => {
      for await (const item of readAhead(source(10, log), 1)) if (item === 2) throw new Error('save failed')
    }
    await expect(run()).rejects.toThrow('save failed')
    expect(log.filter((l) => l.startsWith('read'))).toEqual(['read 1', 'read 2', 'read 3'])
    expect(log.at(-1)).toBe('closed')
  })

  it('held: reads ahead only when the consumer says so, or when it asks for the next item', async () => {
    const log: string[] = []
    const items = readAhead(source(4, log), 1, { held: true })
    for await (const item of items) {
      await new Promise((r) => setTimeout(r, 5))
      log.push(`sent ${item}`)
      // item 2 is handled without a word: its successor is read when it is asked for
      if (item !== 2) items.readOn()
      await new Promise((r) => setTimeout(r, 5))
      log.push(`handled ${item}`)
    }
    expect(log).toEqual([
      'read 1',
      'sent 1',
      'read 2',
      'handled 1',
      'sent 2',
      'handled 2',
      'read 3',
      'sent 3',
      'read 4',
      'handled 3',
      'sent 4',
      'closed',
      'handled 4',
    ])
  })
})
