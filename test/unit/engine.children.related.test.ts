import { describe, expect, it } from 'vitest'
import { decideRelation, type RelationEntry } from '../../src/engine/children.related.js'

/** A relation TSK-1 → TSK-2 on the left, copied (or to be) as OPS-1 → OPS-2 on the right. */
const L = { parent: 'TSK-1', related: 'TSK-2' }
const R = { parent: 'OPS-1', related: 'OPS-2' }

function entry(over: Partial<RelationEntry>): RelationEntry {
  return {
    id: 1,
    origin: 'left',
    state: 'linked',
    ends: { left: L, right: R },
    seen: { left: true, right: true },
    present: { left: true, right: true },
    parentLinkId: 7,
    outbox: { id: 9, state: 'sent' },
    ...over,
  }
}

const waiting = (over: Partial<RelationEntry> = {}) =>
  entry({ state: 'waiting', ends: { left: L, right: null }, seen: { left: true, right: false }, present: { left: true, right: false }, outbox: null, ...over })

describe('decideRelation', () => {
  it('keeps a relation waiting while an end is not linked, and drops it once removed at its origin', () => {
    expect(decideRelation(waiting({ parentLinkId: null }), 'both')).toEqual({ kind: 'keep' })
    expect(decideRelation(waiting(), 'both')).toEqual({ kind: 'keep' })
    expect(decideRelation(waiting({ present: { left: false, right: false } }), 'both')).toEqual({ kind: 'delete' })
  })

  it('relates the counterparts once both ends are linked', () => {
    const d = decideRelation(waiting({ counterpart: { ...R, present: false, clashId: null } }), 'left-to-right')
    expect(d).toMatchObject({ kind: 'write', op: 'relate', target: 'right', ends: R, change: { state: 'copying', ends: { left: L, right: R } } })
  })

  it('pairs without a write a relation the other side already has, taking the place of its own pairing', () => {
    const d = decideRelation(waiting({ counterpart: { ...R, present: true, clashId: 4 } }), 'both')
    expect(d).toEqual({
      kind: 'update',
      change: { state: 'linked', ends: { left: L, right: R }, seen: { left: true, right: true } },
      alsoDelete: 4,
    })
  })

  it('waits for a relate in flight, and counts it linked once sent', () => {
    const copying = entry({ state: 'copying', seen: { left: true, right: false }, present: { left: true, right: false } })
    expect(decideRelation({ ...copying, outbox: { id: 9, state: 'failed' } }, 'both')).toEqual({ kind: 'keep' })
    expect(decideRelation({ ...copying, outbox: { id: 9, state: 'dead' } }, 'both')).toEqual({ kind: 'keep' })
    expect(decideRelation(copying, 'both')).toEqual({ kind: 'update', change: { state: 'linked', seen: { left: true, right: false } } })
  })

  it('does not take a copy the target has not been read back with for a removal', () => {
    const unseen = entry({ seen: { left: true, right: false }, present: { left: true, right: false } })
    expect(decideRelation(unseen, 'both')).toEqual({ kind: 'keep' })
  })

  it('removes the other side of a relation removed on either side when related items go both ways', () => {
    const goneRight = entry({ present: { left: true, right: false } })
    expect(decideRelation(goneRight, 'both')).toMatchObject({ kind: 'write', op: 'unrelate', target: 'left', ends: L, change: { state: 'removing' } })
    const goneLeft = entry({ present: { left: false, right: true } })
    expect(decideRelation(goneLeft, 'both')).toMatchObject({ kind: 'write', op: 'unrelate', target: 'right', ends: R })
    expect(decideRelation(entry({ present: { left: false, right: false } }), 'both')).toEqual({ kind: 'delete' })
  })

  it('one way: a removal at the origin leaves the copy; a copy removed on its target is not copied again', () => {
    expect(decideRelation(entry({ present: { left: false, right: true } }), 'left-to-right')).toEqual({ kind: 'delete' })
    const ended = decideRelation(entry({ present: { left: true, right: false } }), 'left-to-right')
    expect(ended).toEqual({ kind: 'update', change: { state: 'ended', seen: { left: true, right: true } } })
    expect(decideRelation(entry({ state: 'ended', present: { left: true, right: false } }), 'left-to-right')).toEqual({ kind: 'keep' })
    expect(decideRelation(entry({ state: 'ended', present: { left: false, right: false } }), 'left-to-right')).toEqual({ kind: 'delete' })
  })

  it('forgets a removed pair only once neither side shows it, so the stale side is not copied back', () => {
    const removing = entry({ state: 'removing', present: { left: false, right: true } })
    expect(decideRelation(removing, 'both')).toEqual({ kind: 'keep' })
    expect(decideRelation({ ...removing, present: { left: false, right: false } }, 'both')).toEqual({ kind: 'delete' })
    expect(decideRelation({ ...removing, present: { left: false, right: false }, outbox: { id: 9, state: 'pending' } }, 'both')).toEqual({ kind: 'keep' })
  })
})
