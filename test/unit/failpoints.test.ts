import { describe, expect, it } from 'vitest'
import { failpointStrikes } from '../../src/app.js'

const row = (op: 'create' | 'comment' | 'attachment', connection: string) => ({ op, stream: { connection, stream: 's' } })

describe('ELSYNC_FAILPOINT: which point it strikes', () => {
  it('a bare name strikes at that point, whatever the row', () => {
    expect(failpointStrikes('push:after-send', 'push:after-send', row('create', 'elean'))).toBe(true)
    expect(failpointStrikes('push:after-send', 'push:after-claim', row('create', 'elean'))).toBe(false)
    expect(failpointStrikes('poll:mid-page', 'poll:mid-page')).toBe(true)
  })

  it('a push point narrowed to an operation strikes only for rows of it, and of the named target where one is named', () => {
    expect(failpointStrikes('push:after-send@comment', 'push:after-send', row('comment', 'elementum'))).toBe(true)
    expect(failpointStrikes('push:after-send@comment', 'push:after-send', row('create', 'elementum'))).toBe(false)
    expect(failpointStrikes('push:after-send@comment', 'push:after-claim', row('comment', 'elementum'))).toBe(false)
    expect(failpointStrikes('push:after-send@attachment/elean', 'push:after-send', row('attachment', 'elean'))).toBe(true)
    expect(failpointStrikes('push:after-send@attachment/elean', 'push:after-send', row('attachment', 'elementum'))).toBe(false)
    // a point no row passes never matches a narrowed name
    expect(failpointStrikes('poll:mid-page@comment', 'poll:mid-page')).toBe(false)
  })
})
