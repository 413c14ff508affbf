import { describe, expect, it } from 'vitest'
import { createPageFilter } from '../../src/engine/filter.js'
import type { RemoteRecord } from '../../src/engine/types.js'
import { connectionSchema } from '../../src/config/schema.js'

const rec = (id: string, status: string, extra: Record<string, unknown> = {}): RemoteRecord => ({
  remoteId: id,
  title: `t${id}`,
  status,
  statusCategory: status === 'Done' ? 'done' : 'todo',
  priority: 'high',
  document: { id, customerType: 'partner', ...extra },
})

describe('stream filter applied after reading', () => {
  it('keeps only matching records, on normalized columns and source fields', () => {
    const narrow = createPageFilter('status!=Done;customerType==partner')
    const page = narrow({ records: [rec('1', 'Open'), rec('2', 'Done'), rec('3', 'Open', { customerType: 'direct' })] })
    expect(page.records.map((r) => r.remoteId)).toEqual(['1'])
  })

  it('drops the children of records it filtered out', () => {
    const narrow = createPageFilter('status_category==todo')
    const c = (p: string) => ({ parentRemoteId: p, commentId: `c${p}`, body: 'x', author: null, createdAt: null, document: {} })
    const page = narrow({ records: [rec('1', 'Open'), rec('2', 'Done')], comments: { parents: ['1', '2'], items: [c('1'), c('2')] } })
    expect(page.comments?.parents).toEqual(['1'])
    expect(page.comments?.items.map((i) => i.parentRemoteId)).toEqual(['1'])
  })

  it('is refused at config load with the position of a syntax error', () => {
    const result = connectionSchema.safeParse({
      kind: 'elean',
      baseUrl: 'https://api.elean.app/v1/public',
      auth: { mode: 'bearer', token: 'el_x' },
      streams: { web: { project: 'web', filter: 'status==Open;;' } },
    })
    expect(result.success).toBe(false)
    expect(JSON.stringify(result.error?.issues)).toMatch(/not a valid RSQL filter: position \d+ /)
  })
})
