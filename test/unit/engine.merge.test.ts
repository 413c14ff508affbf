import { describe, expect, it } from 'vitest'
import { bindNewLink, NEW_LINK, reconcileRecord, type ReconcileOutcome } from '../../src/engine/merge.js'
import type { ConflictPolicy, Link, MappingSpec, MirroredRecord } from '../../src/engine/write.types.js'
import { agreedBase, catalogs, elean, elementum, link, mapping, NOW } from './engine.reconcile.helpers.js'

const c = catalogs()
const LEFT0 = { title: 'Laptop', status: 'Open', priority: 'P2', due: '2026-03-15T00:00:00.000Z', description: 'Needs a charger' }
const RIGHT0 = { title: 'Laptop', status: 'To Do', priority: 'high', due: '2026-03-15T00:00:00.000Z', description: 'Needs a charger' }

/** A linked pair in agreement, then each side edited as given. */
function pair(edits: { left?: object; right?: object; m?: MappingSpec; link?: Partial<Link> } = {}) {
  const m = edits.m ?? mapping()
  const l0 = elementum('TSK-4', LEFT0)
  const r0 = elean('WEB-1', RIGHT0)
  const l = link({ base: agreedBase(m, c, l0, r0), ...edits.link })
  return { m, link: l, left: elementum('TSK-4', { ...LEFT0, ...edits.left }), right: elean('WEB-1', { ...RIGHT0, ...edits.right }) }
}

const run = (p: { m: MappingSpec; link: Link | null; left: MirroredRecord | null; right: MirroredRecord | null }): ReconcileOutcome =>
  reconcileRecord({ mapping: p.m, link: p.link, left: p.left, right: p.right, catalogs: c, now: NOW })

const updatedLink = (o: ReconcileOutcome): Link => {
  if (o.link?.kind !== 'update') throw new Error(`expected a link update, got ${JSON.stringify(o.link)}`)
  return o.link.link
}

const valuesOf = (r: MirroredRecord) => ({
  title: r.snapshot.title,
  status: r.snapshot.status,
  priority: r.snapshot.priority,
  due: r.snapshot.due_at,
  description: r.snapshot.description,
})

/** The pair after our writes were pushed and read back, with the link's new base. */
function afterPush(p: ReturnType<typeof pair>, o: ReconcileOutcome, readBack: { left?: object; right?: object }) {
  return {
    ...p,
    link: updatedLink(o),
    left: elementum('TSK-4', { ...valuesOf(p.left), ...readBack.left }),
    right: elean('WEB-1', { ...valuesOf(p.right), ...readBack.right }),
  }
}

describe('reconcileRecord: one side changed', () => {
  it('pushes a left change to the right with the changed fields only', () => {
    const o = run(pair({ left: { status: 'Closed', title: 'New laptop' } }))
    expect(o.requests).toHaveLength(1)
    expect(o.requests[0]).toMatchObject({ op: 'update', target: 'right', remoteId: 'uuid-WEB-1', stream: { connection: 'elean', stream: 'web' } })
    expect(o.requests[0]?.values).toEqual({ title: 'New laptop', status: 'Done' })
    expect(o.conflicts).toEqual([])
    expect(updatedLink(o).base['2']).toEqual({ left: 'Closed', right: 'Done', pending: { target: 'right', previous: 'To Do' } })
  })

  it('pushes a right change to the left, through the value map read backwards', () => {
    const o = run(pair({ right: { status: 'In Progress', due: '2026-04-01T00:00:00.000Z' } }))
    expect(o.requests).toHaveLength(1)
    expect(o.requests[0]).toMatchObject({ op: 'update', target: 'left', remoteId: 'TSK-4' })
    expect(o.requests[0]?.values).toEqual({ Status: 'In Progress', 'Due Date': '2026-04-01T00:00:00.000Z' })
  })

  it('writes nothing back the way a one-way field does not flow', () => {
    const o = run(pair({ right: { priority: 'low' } }))
    expect(o.requests).toEqual([])
    expect(o.decisions).toMatchObject([{ field: 'Priority ↔ priority', rule: 'right-changed' }])
    expect(o.decisions[0]?.target).toBeUndefined()
  })

  it('plans nothing when neither side changed', () => {
    const o = run(pair())
    expect(o).toMatchObject({ link: null, requests: [], conflicts: [], decisions: [] })
  })
})

describe('reconcileRecord: the echo of our own write', () => {
  it('does not write back a title Elean stored trimmed', () => {
    const p = pair({ left: { title: 'Laptop for Ada   ' } })
    const first = run(p)
    expect(first.requests[0]?.values).toEqual({ title: 'Laptop for Ada' })
    // the push went through; Elean stores and returns the title trimmed
    const second = run(afterPush(p, first, { right: { title: 'Laptop for Ada' } }))
    expect(second.requests).toEqual([])
    expect(second.decisions).toEqual([])
    // the write has landed: the base forgets what the target held before it
    expect(updatedLink(second).base['0']).toEqual({ left: 'Laptop for Ada   ', right: 'Laptop for Ada' })
    expect(run({ ...p, link: updatedLink(second), right: elean('WEB-1', { ...RIGHT0, title: 'Laptop for Ada' }) }).link).toBeNull()
  })

  it('does not copy the old value back when the source changes again before our write lands', () => {
    const p = pair({ left: { status: 'Closed' } })
    const first = run(p)
    expect(updatedLink(first).base['2']).toEqual({ left: 'Closed', right: 'Done', pending: { target: 'right', previous: 'To Do' } })
    // Elementum changed again (a title edit); Elean still shows the status from before our push
    const second = run({ ...p, link: updatedLink(first), left: elementum('TSK-4', { ...LEFT0, status: 'Closed', title: 'Renamed' }) })
    expect(second.requests).toMatchObject([{ target: 'right', values: { title: 'Renamed' } }])
    expect(second.decisions.map((d) => d.field)).toEqual(['Title ↔ title'])
  })

  it('takes a person’s edit of the target that crossed our pending write for a conflict, not a change of the target alone', () => {
    const p = pair({ m: mapping({ conflict: 'manual' }), left: { status: 'Closed', updatedAt: '2026-03-01T11:00:00.000Z' } })
    const first = run(p)
    // Elean shows neither what it held (To Do) nor what we wrote (Done): someone set In Progress meanwhile
    const crossed = { ...p, link: updatedLink(first), right: elean('WEB-1', { ...RIGHT0, status: 'In Progress', updatedAt: '2026-03-01T11:30:00.000Z' }) }
    const held = run(crossed)
    expect(held.requests).toEqual([])
    expect(held.conflicts).toEqual([expect.objectContaining({ field: 'Status ↔ status', leftValue: 'Closed', rightValue: 'In Progress', winner: null })])
    expect(updatedLink(held).heldFields).toEqual(['Status ↔ status'])
    // under newest, the later edit wins, and the conflict is on record
    const newest = run({ ...crossed, m: mapping({ conflict: 'newest' }) })
    expect(newest.requests).toMatchObject([{ target: 'left', values: { Status: 'In Progress' } }])
    expect(newest.conflicts).toEqual([expect.objectContaining({ field: 'Status ↔ status', winner: 'right', policy: 'newest' })])
    // converged: the person set what we were writing
    expect(run({ ...crossed, right: elean('WEB-1', { ...RIGHT0, status: 'Done' }) }).conflicts).toEqual([])
  })

  it('does not write back a mapped status read back as mapped', () => {
    const p = pair({ right: { status: 'Done' } })
    const first = run(p)
    expect(first.requests[0]?.values).toEqual({ Status: 'Closed' })
    const second = run(afterPush(p, first, { left: { status: 'Closed' } }))
    expect(second.requests).toEqual([])
  })
})

describe('reconcileRecord: both sides changed', () => {
  const both = (conflict: ConflictPolicy, times: { left?: string; right?: string } = {}) =>
    pair({
      m: mapping({ conflict }),
      left: { title: 'Left title', updatedAt: times.left ?? '2026-03-01T11:00:00.000Z' },
      right: { title: 'Right title', updatedAt: times.right ?? '2026-03-01T11:30:00.000Z' },
    })

  it('newest: the later remoteUpdatedAt wins, and the conflict is recorded', () => {
    const o = run(both('newest'))
    expect(o.requests).toMatchObject([{ target: 'left', values: { Title: 'Right title' } }])
    expect(o.conflicts).toEqual([
      {
        field: 'Title ↔ title',
        leftValue: 'Left title',
        rightValue: 'Right title',
        base: { left: 'Laptop', right: 'Laptop' },
        policy: 'newest',
        winner: 'right',
      },
    ])
    expect(o.decisions[0]).toMatchObject({ rule: 'conflict-newest', target: 'left', written: 'Right title' })
    const older = run(both('newest', { left: '2026-03-01T11:45:00.000Z' }))
    expect(older.requests).toMatchObject([{ target: 'right', values: { title: 'Left title' } }])
  })

  it('newest: a tie goes to the left', () => {
    const o = run(both('newest', { left: '2026-03-01T11:30:00.000Z', right: '2026-03-01T11:30:00.000Z' }))
    expect(o.requests).toMatchObject([{ target: 'right', values: { title: 'Left title' } }])
    expect(o.conflicts[0]?.winner).toBe('left')
  })

  it('left and right: the named side wins whatever the times', () => {
    expect(run(both('left')).requests).toMatchObject([{ target: 'right', values: { title: 'Left title' } }])
    expect(run(both('left')).decisions[0]?.rule).toBe('conflict-left')
    expect(run(both('right', { left: '2026-03-01T11:59:00.000Z' })).requests).toMatchObject([{ target: 'left', values: { Title: 'Right title' } }])
  })

  it('manual: holds the field with an open conflict while the other fields still sync', () => {
    const p = both('manual')
    p.left = elementum('TSK-4', { ...LEFT0, title: 'Left title', status: 'Closed' })
    const o = run(p)
    expect(o.requests).toHaveLength(1)
    expect(o.requests[0]?.values).toEqual({ status: 'Done' })
    expect(o.conflicts).toMatchObject([{ field: 'Title ↔ title', policy: 'manual', winner: null }])
    const held = updatedLink(o)
    expect(held.heldFields).toEqual(['Title ↔ title'])
    expect(held.base['0']).toEqual({ left: 'Laptop', right: 'Laptop' })

    // held until an admin resolves it: a later edit of either side writes nothing, the rest still syncs
    const later = run({ ...p, link: held, left: elementum('TSK-4', { ...LEFT0, title: 'Third title', status: 'Closed', description: 'Charger found' }) })
    expect(later.requests).toMatchObject([{ target: 'right', values: { description: 'Charger found' } }])
    expect(later.conflicts).toEqual([])
    expect(later.decisions.find((d) => d.field === 'Title ↔ title')?.rule).toBe('conflict-manual')
    expect(updatedLink(later).heldFields).toEqual(['Title ↔ title'])
  })

  it('converged: both changed to values that agree once projected: no write, the base moves', () => {
    const o = run(pair({ left: { status: 'Closed', title: 'Same  ' }, right: { status: 'Done', title: 'Same' } }))
    expect(o.requests).toEqual([])
    expect(o.conflicts).toEqual([])
    expect(o.decisions.map((d) => d.rule)).toEqual(['converged', 'converged'])
    expect(updatedLink(o).base['2']).toEqual({ left: 'Closed', right: 'Done' })
  })

  it('a one-way field: its source wins without a conflict', () => {
    const o = run(pair({ left: { priority: 'P1' }, right: { priority: 'low' } }))
    expect(o.requests).toMatchObject([{ target: 'right', values: { priority: 'urgent' } }])
    expect(o.conflicts).toEqual([])
  })
})

describe('reconcileRecord: unmappable values', () => {
  it('records the error as a decision and still syncs the other fields', () => {
    const o = run(pair({ left: { status: 'Waiting on vendor', title: 'Laptop 2' } }))
    expect(o.requests).toMatchObject([{ target: 'right', values: { title: 'Laptop 2' } }])
    const d = o.decisions.find((x) => x.field === 'Status ↔ status')
    expect(d).toMatchObject({ rule: 'left-changed', target: 'right', error: { code: 'unmappable_value' } })
    expect(d?.error?.message).toContain('Waiting on vendor')
    expect(d?.error?.message).toContain('it-requests')
    expect(d?.written).toBeUndefined()
    // the base stays: once the map has an entry (or the value changes) it flows
    expect(updatedLink(o).base['2']).toEqual({ left: 'Open', right: 'To Do' })
  })
})

describe('reconcileRecord: provenance', () => {
  it('every write carries the decision behind it: base, both values, rule, target, the field written and its value', () => {
    const o = run(pair({ left: { title: 'New laptop' } }))
    expect(o.requests[0]?.decisions).toEqual([
      {
        field: 'Title ↔ title',
        base: { left: 'Laptop', right: 'Laptop' },
        left: 'New laptop',
        right: 'Laptop',
        rule: 'left-changed',
        target: 'right',
        name: 'title',
        written: 'New laptop',
      },
    ])
  })
})

describe('reconcileRecord: a first merge (no base yet)', () => {
  it('takes agreeing values as the base without writing', () => {
    const o = run({ m: mapping(), link: link(), left: elementum('TSK-4', LEFT0), right: elean('WEB-1', RIGHT0) })
    expect(o.requests).toEqual([])
    expect(o.decisions.every((d) => d.rule === 'initial')).toBe(true)
    expect(Object.keys(updatedLink(o).base)).toEqual(['0', '1', '2', '3', '4'])
  })

  it('lets a one-way field flow from its source, but an empty value never clears a value', () => {
    const o = run({ m: mapping(), link: link(), left: elementum('TSK-4', { ...LEFT0, priority: 'P1' }), right: elean('WEB-1', RIGHT0) })
    expect(o.requests).toMatchObject([{ target: 'right', values: { priority: 'urgent' } }])
    const empty = run({ m: mapping(), link: link(), left: elementum('TSK-4', { ...LEFT0, priority: null }), right: elean('WEB-1', RIGHT0) })
    expect(empty.requests).toEqual([])
    expect(updatedLink(empty).base['3']).toEqual({ left: null, right: 'high' })
  })

  it('does not overwrite a value the other side cannot represent (a create left it behind)', () => {
    const left = elementum('TSK-5', { ...LEFT0, status: 'Triage', updatedAt: '2026-03-01T10:00:00.000Z' })
    const created = run({ m: mapping(), link: null, left, right: null })
    const base = created.link?.kind === 'create' ? created.link.init.base : {}
    expect(base['2']).toBeUndefined()
    // Elean gave the new task its default status; it is newer than the source
    const right = elean('WEB-5', { ...RIGHT0, status: 'To Do', updatedAt: '2026-03-01T11:00:00.000Z' })
    const o = run({ m: mapping(), link: link({ leftRemoteId: 'TSK-5', rightRemoteId: 'uuid-WEB-5', base }), left, right })
    expect(o.requests).toEqual([])
    expect(o.decisions).toMatchObject([{ field: 'Status ↔ status', rule: 'initial', error: { code: 'unmappable_value' } }])
    expect(updatedLink(o).base['2']).toEqual({ left: 'Triage', right: 'To Do' })
  })

  it('settles two different values by the conflict policy', () => {
    const o = run({
      m: mapping({ conflict: 'right' }),
      link: link(),
      left: elementum('TSK-4', { ...LEFT0, title: 'A' }),
      right: elean('WEB-1', { ...RIGHT0, title: 'B' }),
    })
    expect(o.requests).toMatchObject([{ target: 'left', values: { Title: 'B' } }])
    expect(o.decisions.find((d) => d.field === 'Title ↔ title')?.rule).toBe('initial')
  })
})

describe('reconcileRecord: creates', () => {
  it('creates the right record from a new left one, with every field that flows that way and the marker', () => {
    const o = run({ m: mapping(), link: null, left: elementum('TSK-12', { ...LEFT0, title: 'Laptop ', priority: 'P1' }), right: null })
    expect(o.link).toMatchObject({ kind: 'create', init: { leftRemoteId: 'TSK-12', rightRemoteId: null, state: 'creating' } })
    expect(o.requests).toHaveLength(1)
    const req = o.requests[0]
    expect(req).toMatchObject({ op: 'create', target: 'right', remoteId: null, linkId: NEW_LINK })
    expect(req?.values).toEqual({
      title: 'Laptop',
      description: 'Needs a charger',
      status: 'To Do',
      priority: 'urgent',
      dueDate: '2026-03-15T00:00:00.000Z',
    })
    expect(req?.decisions.map((d) => d.rule)).toEqual(['create', 'create', 'create', 'create', 'create'])
    // the base is what the created record will read back as: its echo is no change
    const base = o.link?.kind === 'create' ? o.link.init.base : {}
    expect(base['0']).toEqual({ left: 'Laptop ', right: 'Laptop' })
    const created: Link = { id: 42, mappingId: 'it-requests', leftRemoteId: 'TSK-12', rightRemoteId: null, state: 'creating', base, heldFields: [] }
    expect(bindNewLink(o, created, mapping())[0]).toMatchObject({ linkId: 42, marker: 'elsync:it-requests:42' })
    expect(bindNewLink(o, created, mapping({ marker: 'acme' }))[0]?.marker).toBe('acme:it-requests:42')

    const echo = run({
      m: mapping(),
      link: { ...created, rightRemoteId: 'uuid-WEB-9', state: 'linked' },
      left: elementum('TSK-12', { ...LEFT0, title: 'Laptop ', priority: 'P1' }),
      right: elean('WEB-9', { ...RIGHT0, priority: 'urgent' }),
    })
    expect(echo.requests).toEqual([])
  })

  it('creates the left record from a new right one, without the fields that flow only left to right', () => {
    const o = run({ m: mapping(), link: null, left: null, right: elean('WEB-3', { ...RIGHT0, status: 'Done' }) })
    expect(o.link).toMatchObject({ kind: 'create', init: { leftRemoteId: null, rightRemoteId: 'uuid-WEB-3', state: 'creating' } })
    expect(o.requests[0]).toMatchObject({ op: 'create', target: 'left', stream: { connection: 'elementum', stream: 'it-requests' } })
    expect(o.requests[0]?.values).toEqual({ Title: 'Laptop', Description: 'Needs a charger', Status: 'Closed', 'Due Date': '2026-03-15T00:00:00.000Z' })
  })

  it('creates nothing where the create policy does not let records flow that way', () => {
    const onlyLeft = mapping({ create: 'left-to-right' })
    expect(run({ m: onlyLeft, link: null, left: null, right: elean('WEB-3', RIGHT0) })).toMatchObject({ link: null, requests: [], skipped: 'no-create' })
    expect(run({ m: mapping({ create: 'none' }), link: null, left: elementum('TSK-5', LEFT0), right: null }).requests).toEqual([])
    expect(run({ m: onlyLeft, link: null, left: elementum('TSK-5', LEFT0), right: null }).requests).toHaveLength(1)
  })

  it('leaves out an unmappable value of a create, with its error decision', () => {
    const o = run({ m: mapping(), link: null, left: elementum('TSK-5', { ...LEFT0, status: 'Triage' }), right: null })
    expect(o.requests[0]?.values).not.toHaveProperty('status')
    expect(o.decisions.find((d) => d.error)?.error?.code).toBe('unmappable_value')
  })

  it('plans nothing more while the counterpart is being created', () => {
    const creating = link({ rightRemoteId: null, state: 'creating', base: {} })
    expect(run({ m: mapping(), link: creating, left: elementum('TSK-4', { ...LEFT0, title: 'Edited' }), right: null })).toMatchObject({
      requests: [],
      skipped: 'waiting',
    })
  })
})

describe('reconcileRecord: scope', () => {
  const scoped = mapping({ left: { connection: 'elementum', stream: 'it-requests', filter: 'Status!=Cancelled' } })

  it('creates nothing for a record outside its side filter', () => {
    const o = run({ m: scoped, link: null, left: elementum('TSK-8', { ...LEFT0, status: 'Cancelled' }), right: null })
    expect(o).toMatchObject({ link: null, requests: [], skipped: 'out-of-scope' })
    expect(run({ m: scoped, link: null, left: elementum('TSK-8', LEFT0), right: null }).requests).toHaveLength(1)
  })

  it('leaves an existing link alone when one of its records left the scope', () => {
    const p = pair({ m: scoped, left: { status: 'Cancelled', title: 'Renamed' } })
    expect(run(p)).toMatchObject({ link: null, requests: [], conflicts: [], decisions: [], skipped: 'out-of-scope' })
  })

  it('reads filter selectors through the side catalog, and snapshot columns and fields too', () => {
    const m = mapping({ right: { connection: 'elean', stream: 'web', filter: 'dueDate=lt=2026-04-01;status_category==todo' } })
    const inside = elean('WEB-5', { ...RIGHT0 })
    inside.snapshot.status_category = 'todo'
    expect(run({ m, link: null, left: null, right: inside }).requests).toHaveLength(1)
    const late = elean('WEB-6', { ...RIGHT0, due: '2026-05-01T00:00:00.000Z' })
    late.snapshot.status_category = 'todo'
    expect(run({ m, link: null, left: null, right: late }).skipped).toBe('out-of-scope')
  })
})

describe('reconcileRecord: deletes', () => {
  const deleted = (policy: MappingSpec['delete']) => {
    const p = pair({ m: mapping({ delete: policy }) })
    return run({ ...p, left: elementum('TSK-4', { ...LEFT0, deleted: true }) })
  }

  it('ignore: nothing happens', () => {
    expect(deleted('ignore')).toMatchObject({ link: null, requests: [], skipped: 'deleted' })
  })

  it('unlink: the link is unlinked, nothing is written', () => {
    const o = deleted('unlink')
    expect(updatedLink(o).state).toBe('unlinked')
    expect(o.requests).toEqual([])
  })

  it('propagate: the counterpart is deleted and the link unlinked', () => {
    const o = deleted('propagate')
    expect(o.requests).toMatchObject([{ op: 'delete', target: 'right', remoteId: 'uuid-WEB-1', values: {} }])
    expect(updatedLink(o).state).toBe('unlinked')
  })

  it('an unlinked link never syncs again', () => {
    const p = pair({ left: { title: 'Edited' }, link: { state: 'unlinked' } })
    expect(run(p)).toMatchObject({ link: null, requests: [], skipped: 'unlinked' })
  })
})
