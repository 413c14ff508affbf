import { describe, expect, it } from 'vitest'
import { createEleanFieldCatalog } from '../../src/connectors/elean/elean.fields.js'
import { normalizeComment, normalizeTask, statusLookup } from '../../src/connectors/elean/elean.normalize.js'
import { parseComments } from '../../src/connectors/elean/elean.schemas.js'
import { formatAttribution, DEFAULT_MARKER } from '../../src/engine/attribution.js'
import { FieldNotWritableError, UnmappableValueError } from '../../src/engine/catalog.js'
import { toMirrorRow, type Snapshot } from '../../src/engine/record.js'
import type { SimClock } from '../../src/sim/common/clock.js'
import { readTaskFields } from '../../src/sim/elean/fields.js'
import { renderTask } from '../../src/sim/elean/model.js'
import { createEleanStore } from '../../src/sim/elean/store.js'

const T = Date.parse('2026-03-01T12:00:00Z')
const clock: SimClock = { now: () => T, advance: () => {}, nowIso: () => new Date(T).toISOString() }
// The simulator's store and validation, in memory: what Elean keeps of a write, without HTTP.
const store = createEleanStore({ clock: clock, seed: 1 })
const project = store.ensureProject('web')
const lookup = statusLookup(project.statuses)
let statusReads = 0
const signal = AbortSignal.timeout(10_000)

function catalog() {
  return createEleanFieldCatalog({
    connection: 'elean',
    streams: { web: { project: 'web' } },
    statuses: async (p) => {
      statusReads += 1
      if (p !== 'web') throw new Error(`unexpected project ${p}`)
      return lookup
    },
  })
}

/** POST the payload to the in-memory Elean, read the task back and mirror it: its snapshot. */
function storeAndMirror(payload: Record<string, unknown>): Snapshot {
  const task = store.createTask(project, { title: '', ...readTaskFields(payload, project, 'create') })
  const json = JSON.parse(JSON.stringify(renderTask(project, task)))
  return toMirrorRow(normalizeTask(json, lookup), { nulBytesStripped: 0 }).snapshot
}

describe('Elean field catalog: read', () => {
  it('reads columns the normalizer filled and every other task field from fields', () => {
    const c = catalog()
    const s = storeAndMirror({
      title: 'Fix login',
      description: 'Steps',
      priority: 'high',
      dueDate: '2026-03-15T00:00:00.000Z',
      statusId: project.statuses[2]?.id,
    })
    expect(c.read(s, 'title')).toBe('Fix login')
    expect(c.read(s, 'description')).toBe('Steps')
    expect(c.read(s, 'status')).toBe('In Review')
    expect(c.read(s, 'category')).toBe('in_progress')
    expect(c.read(s, 'priority')).toBe('high')
    expect(c.read(s, 'dueDate')).toBe('2026-03-15T00:00:00.000Z')
    expect(c.read(s, 'assignees')).toEqual([])
    expect(c.read(s, 'externalId')).toMatch(/^WEB-\d+$/)
    expect(c.read(s, 'createdAt')).toBe('2026-03-01T12:00:00.000Z')
    expect(c.read(s, 'parentId')).toBeNull()
    expect(c.read(s, 'attachments')).toEqual([])
    expect(c.read(s, 'noSuchField')).toBeNull()
  })

  it('reads the description without the create marker a push wrote', () => {
    const s = storeAndMirror({ title: 'Created by a push', description: DEFAULT_MARKER.append('Body', { mapping: 'it', link: '7' }) })
    expect(catalog().read(s, 'description')).toBe('Body')
  })
})

describe('Elean field catalog: normalize', () => {
  it('trims titles, reads an empty description as null, lower-cases priority and gives due dates in UTC with milliseconds', () => {
    const c = catalog()
    expect(c.normalize('web', 'title', '  Fix login \n')).toBe('Fix login')
    expect(c.normalize('web', 'description', '')).toBeNull()
    expect(c.normalize('web', 'description', ' \n ')).toBeNull()
    expect(c.normalize('web', 'description', 'Line one\n\nLine two\n')).toBe('Line one\n\nLine two\n')
    expect(c.normalize('web', 'priority', 'High')).toBe('high')
    expect(c.normalize('web', 'priority', null)).toBe('none')
    expect(c.normalize('web', 'dueDate', '2026-03-15')).toBe('2026-03-15T00:00:00.000Z')
    expect(c.normalize('web', 'dueDate', '2026-03-15T10:30:00+02:00')).toBe('2026-03-15T08:30:00.000Z')
    expect(c.normalize('web', 'dueDate', '')).toBeNull()
    expect(
      c.normalize('web', 'assignees', [
        { id: 'u2', name: 'Omar' },
        { id: 'u1', name: 'Ana' },
      ]),
    ).toEqual(['Ana', 'Omar'])
  })

  it("gives a status name in the project's own case once the statuses are known", async () => {
    const c = catalog()
    expect(c.normalize('web', 'status', ' in review ')).toBe('in review')
    await c.toPayload('web', { status: 'done' }, signal)
    expect(c.normalize('web', 'status', ' in review ')).toBe('In Review')
    expect(c.normalize('web', 'status', 'Blocked')).toBe('Blocked')
  })

  it('compares our own write, read back, equal to what was written (the echo property)', async () => {
    const c = catalog()
    const written = { title: '  Padded title  ', description: '', priority: 'URGENT', dueDate: '2026-03-15', status: 'in progress' }
    const s = storeAndMirror(await c.toPayload('web', written, signal))
    for (const [name, value] of Object.entries(written)) {
      expect(c.normalize('web', name, c.read(s, name)), name).toEqual(c.normalize('web', name, value))
    }
    const again = storeAndMirror(await c.toPayload('web', { title: 'x', description: '   ', dueDate: '2026-03-15T09:00:00.5+01:00' }, signal))
    expect(c.normalize('web', 'description', c.read(again, 'description'))).toEqual(c.normalize('web', 'description', '   '))
    expect(c.normalize('web', 'dueDate', c.read(again, 'dueDate'))).toEqual(c.normalize('web', 'dueDate', '2026-03-15T09:00:00.5+01:00'))
  })
})

describe('Elean field catalog: toPayload', () => {
  it('writes a status name as the statusId of the project status with that name', async () => {
    const c = catalog()
    const done = project.statuses.find((s) => s.name === 'Done')
    const before = statusReads
    expect(await c.toPayload('web', { status: 'done', title: ' T ', priority: 'Low', dueDate: '2026-03-15', description: null }, signal)).toEqual({
      statusId: done?.id,
      title: 'T',
      priority: 'low',
      dueDate: '2026-03-15T00:00:00.000Z',
      description: null,
    })
    expect(statusReads).toBe(before + 1)
    expect(await c.toPayload('web', { title: 'only the title', status: undefined }, signal)).toEqual({ title: 'only the title' })
  })

  it('refuses an unknown status name with unmappable_value naming the field and value', async () => {
    const err = await catalog()
      .toPayload('web', { status: 'Blocked' }, signal)
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UnmappableValueError)
    expect(err).toMatchObject({ code: 'unmappable_value', field: 'status', value: 'Blocked' })
    expect((err as Error).message).toMatch(/"status".*"Blocked".*To Do, In Progress, In Review, Done/)
  })

  it('refuses values Elean would not store', async () => {
    const c = catalog()
    const code = (values: Record<string, unknown>) =>
      c.toPayload('web', values, signal).then(
        () => 'ok',
        (e: { code: string }) => e.code,
      )
    expect(await code({ title: '   ' })).toBe('unmappable_value')
    expect(await code({ title: 'x'.repeat(501) })).toBe('unmappable_value')
    expect(await code({ title: 'x'.repeat(500) })).toBe('ok')
    expect(await code({ priority: 'Critical' })).toBe('unmappable_value')
    expect(await code({ dueDate: 'next Tuesday' })).toBe('unmappable_value')
    expect(await code({ status: null })).toBe('unmappable_value')
  })

  it('refuses fields the public API cannot set with field_not_writable', async () => {
    const c = catalog()
    for (const name of ['assignees', 'createdAt', 'externalId', 'category', 'noSuchField']) {
      const err = await c.toPayload('web', { [name]: 'x' }, signal).catch((e: unknown) => e)
      expect(err, name).toBeInstanceOf(FieldNotWritableError)
      expect(err).toMatchObject({ code: 'field_not_writable', field: name })
    }
    expect(c.field('web', 'assignees')).toMatchObject({ kind: 'people', writable: false })
    expect(c.field('web', 'priority')).toMatchObject({ kind: 'enum', writable: true, values: ['none', 'low', 'medium', 'high', 'urgent'] })
    expect(c.field('web', 'noSuchField')).toBeNull()
  })
})

describe('Elean comments', () => {
  it('marks a comment carrying our attribution footer as synced, and others as native', () => {
    const [ours, theirs] = parseComments(
      [
        { id: 'c1', content: formatAttribution('Done on our side', 'Grace Hopper', 'Elementum'), authorName: 'elsync' },
        { id: 'c2', content: 'Looks good\n\n— not a footer, just a dash', authorName: 'Mei Tanaka' },
      ],
      'comments',
    )
    expect(normalizeComment('t1', ours as never).origin).toBe('synced')
    expect(normalizeComment('t1', theirs as never).origin).toBe('native')
  })
})
