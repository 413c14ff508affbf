import { describe, expect, it } from 'vitest'
import { parseAttribution } from '../../src/engine/attribution.js'
import { commentSources, copyComments, fitComment, pushComment } from '../../src/engine/children.comments.js'
import type { CommentWriter, Connector } from '../../src/engine/ports.js'
import type { RemoteComment } from '../../src/engine/types.js'
import type { CommentCandidate, CommentCopyTx, MappingSpec, OutboxRequest, OutboxRow, ReconcileTx } from '../../src/engine/write.types.js'

const streams = { left: { connection: 'elementum', stream: 'it-requests' }, right: { connection: 'elean', stream: 'web' } }
const mapping = (comments: MappingSpec['comments']): MappingSpec => ({
  id: 'm',
  ...streams,
  create: 'none',
  conflict: 'newest',
  delete: 'ignore',
  fields: [],
  comments,
})

describe('comment copies: planning', () => {
  it('copies from the sides the direction names', () => {
    expect(commentSources('both')).toEqual(['left', 'right'])
    expect(commentSources('left-to-right')).toEqual(['left'])
    expect(commentSources('right-to-left')).toEqual(['right'])
    expect(commentSources('none')).toEqual([])
    expect(commentSources(undefined)).toEqual([])
  })

  it('queues one attributed copy per candidate on the other side, oldest first, and skips one linked meanwhile', async () => {
    const candidate = (side: 'left' | 'right', commentId: string, body: string, author: string | null): CommentCandidate => ({
      linkId: 4,
      side,
      parentRemoteId: side === 'left' ? 'TSK-1' : 'uuid-1',
      targetRemoteId: side === 'left' ? 'uuid-1' : null,
      commentId,
      body,
      author,
      createdAt: null,
    })
    const planned: OutboxRequest[] = []
    const comments: CommentCopyTx = {
      candidates: async (_m, side) =>
        side === 'left'
          ? [candidate('left', 'c1', 'Printer fixed', 'Grace Hopper'), candidate('left', 'c2', 'gone', null)]
          : [candidate('right', 'c3', 'Thanks', 'Mei')],
      planCopy: async (c, req) => (c.commentId === 'c2' ? null : planned.push(req)),
    }
    const copies = await copyComments({ comments } as unknown as ReconcileTx, {
      mapping: mapping('both'),
      streams,
      systems: { left: 'Elementum', right: 'Elean' },
    })
    expect(planned.map((r) => [r.op, r.target, r.stream.connection, r.remoteId, r.values.body])).toEqual([
      ['comment', 'right', 'elean', 'uuid-1', 'Printer fixed\n\n— Grace Hopper via Elementum'],
      ['comment', 'left', 'elementum', null, 'Thanks\n\n— Mei via Elean'],
    ])
    expect(copies.map((c) => c.line)).toEqual([
      'comment elean uuid-1 ← elementum TSK-1 comment c1',
      'comment elementum (being created) ← elean uuid-1 comment c3',
    ])
    // a store without comment support plans nothing
    expect(await copyComments({} as ReconcileTx, { mapping: mapping('both'), streams, systems: { left: 'A', right: 'B' } })).toEqual([])
  })
})

describe('comment copies: push', () => {
  const row = (over: Partial<OutboxRow> = {}): OutboxRow => ({
    id: 9,
    mappingId: 'm',
    linkId: 4,
    target: 'right',
    stream: streams.right,
    op: 'comment',
    remoteId: 'uuid-1',
    values: { body: 'Printer fixed\n\n— Grace Hopper via Elementum' },
    decisions: [],
    state: 'pending',
    attempts: 1,
    lastError: null,
    createdAt: new Date(),
    ...over,
  })
  const comment = (commentId: string, body: string): RemoteComment => ({
    parentRemoteId: 'uuid-1',
    commentId,
    body,
    author: null,
    createdAt: null,
    document: {},
  })
  function writer(existing: RemoteComment[], maxChars?: number) {
    const calls: string[] = []
    const w: CommentWriter = {
      ...(maxChars === undefined ? {} : { maxChars }),
      add: async (_s, _p, body) => (calls.push(`add ${body.length}`), comment('new', body)),
      list: async () => (calls.push('list'), existing),
    }
    return { connector: { kind: 'fake', comments: w } as unknown as Connector, calls }
  }
  const signal = AbortSignal.timeout(5_000)

  it('posts on the first attempt without looking', async () => {
    const w = writer([comment('old', 'Printer fixed\n\n— Grace Hopper via Elementum')])
    expect(await pushComment(row(), w.connector, signal)).toEqual({ remoteId: 'uuid-1', childId: 'new', record: null })
    expect(w.calls).toEqual(['add 43'])
  })

  it('on a later attempt finds the copy an earlier one posted (as the vendor stored it) instead of posting again', async () => {
    const w = writer([comment('human', 'Printer fixed'), comment('copy', '  Printer fixed\r\n\r\n— Grace Hopper via Elementum\n')])
    expect(await pushComment(row({ attempts: 2 }), w.connector, signal)).toEqual({ remoteId: 'uuid-1', childId: 'copy', record: null })
    expect(w.calls).toEqual(['list'])
    // the same words without the footer are a human's, not the copy
    const x = writer([comment('human', 'Printer fixed')])
    expect((await pushComment(row({ attempts: 2 }), x.connector, signal)).childId).toBe('new')
    expect(x.calls).toEqual(['list', 'add 43'])
  })

  it('fits a copy to the vendor limit, cutting the original and keeping the footer', async () => {
    const long = `${'x'.repeat(20_000)}\n\n— Grace Hopper via Elementum`
    const fitted = fitComment(long, 10_000)
    expect(fitted.length).toBeLessThanOrEqual(10_000)
    expect(parseAttribution(fitted)).toMatchObject({ author: 'Grace Hopper', system: 'Elementum' })
    expect(parseAttribution(fitted)?.text.endsWith('x…')).toBe(true)
    expect(fitComment('short\n\n— A via B', 10_000)).toBe('short\n\n— A via B')
    const w = writer([], 10_000)
    await pushComment(row({ values: { body: long } }), w.connector, signal)
    expect(w.calls).toEqual(['add 10000'])
  })

  it('parks a copy it can never post: no target record, no writer', async () => {
    await expect(pushComment(row({ remoteId: null }), writer([]).connector, signal)).rejects.toMatchObject({ code: 'no_remote_id', retryable: false })
    await expect(pushComment(row(), { kind: 'fake' } as Connector, signal)).rejects.toMatchObject({ code: 'write_unsupported' })
  })
})
