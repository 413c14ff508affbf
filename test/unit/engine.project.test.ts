import { describe, expect, it } from 'vitest'
import { FieldNotWritableError, UnmappableValueError } from '../../src/engine/catalog.js'
import { MappingValueError, project, type Projected } from '../../src/engine/project.js'
import type { MappedField } from '../../src/engine/write.types.js'
import { catalogs, mapping } from './engine.reconcile.helpers.js'

const m = mapping()
const c = catalogs()
const field = (left: string): MappedField => m.fields.find((f) => f.left === left) as MappedField
const value = (p: Projected): unknown => {
  if (!p.ok) throw p.error
  return p.value
}
const error = (p: Projected) => {
  if (p.ok) throw new Error(`expected an error, got ${JSON.stringify(p.value)}`)
  return p.error
}

describe('project: value maps', () => {
  it('maps left to right and reads the map backwards right to left', () => {
    expect(value(project(m, c, field('Status'), 'left', 'Closed'))).toBe('Done')
    expect(value(project(m, c, field('Status'), 'right', 'Done'))).toBe('Closed')
    expect(value(project(m, c, field('Status'), 'right', 'To Do'))).toBe('Open')
    expect(value(project(m, c, field('Priority'), 'left', 'P1'))).toBe('urgent')
  })

  it('writes the first of several right values left to right, and maps each of them back', () => {
    const review: MappedField = { ...field('Status'), values: { Open: 'To Do', 'In Progress': ['In Progress', 'In Review'], Closed: 'Done' } }
    expect(value(project(m, c, review, 'left', 'In Progress'))).toBe('In Progress')
    expect(value(project(m, c, review, 'right', 'In Review'))).toBe('In Progress')
    expect(value(project(m, c, review, 'right', 'in review'))).toBe('In Progress')
    expect(value(project(m, c, review, 'right', 'In Progress'))).toBe('In Progress')
    expect(value(project(m, c, review, 'right', 'Done'))).toBe('Closed')
  })

  it('matches a value of another case when only one entry does', () => {
    expect(value(project(m, c, field('Status'), 'left', 'closed'))).toBe('Done')
    expect(value(project(m, c, field('Status'), 'right', 'in progress'))).toBe('In Progress')
  })

  it('passes an empty value without a map entry (a cleared field clears the other side)', () => {
    expect(value(project(m, c, field('Status'), 'left', null))).toBeNull()
    // Elean stores an unset priority as `none`
    expect(value(project(m, c, field('Priority'), 'left', null))).toBe('none')
  })

  it('refuses a value the map lacks, naming the mapping, the field and the value', () => {
    const e = error(project(m, c, field('Status'), 'left', 'Waiting on vendor'))
    expect(e).toBeInstanceOf(MappingValueError)
    expect(e).toBeInstanceOf(UnmappableValueError)
    expect(e.code).toBe('unmappable_value')
    expect(e.message).toContain('it-requests')
    expect(e.message).toContain('"status"')
    expect(e.message).toContain('"Waiting on vendor"')
    expect((e as MappingValueError).mapping).toBe('it-requests')
    expect(error(project(m, c, field('Status'), 'right', 'Blocked')).code).toBe('unmappable_value')
  })
})

describe('project: coercion by field kind', () => {
  it("carries an Elementum date-time to Elean's dueDate and back in the canonical form", () => {
    expect(value(project(m, c, field('Due Date'), 'left', '2026-03-15T09:30:00.000Z'))).toBe('2026-03-15T09:30:00.000Z')
    expect(value(project(m, c, field('Due Date'), 'right', '2026-03-15T09:30:00.000Z'))).toBe('2026-03-15T09:30:00.000Z')
    expect(value(project(m, c, field('Due Date'), 'left', '2026-03-15T11:30:00+02:00'))).toBe('2026-03-15T09:30:00.000Z')
  })

  it('takes a date-only value as midnight UTC and refuses one that is not a date', () => {
    expect(value(project(m, c, field('Due Date'), 'left', '2026-03-15'))).toBe('2026-03-15T00:00:00.000Z')
    const e = error(project(m, c, field('Due Date'), 'left', 'next Tuesday'))
    expect(e.code).toBe('unmappable_value')
    expect(e.message).toContain('dueDate')
  })

  it("applies the target catalog's normalization (Elean trims titles)", () => {
    expect(value(project(m, c, field('Title'), 'left', '  Laptop  '))).toBe('Laptop')
    expect(value(project(m, c, field('Title'), 'right', 'Laptop'))).toBe('Laptop')
  })

  it("refuses a value outside the target enum's documented values", () => {
    const plain = mapping({ fields: [{ left: 'Priority', right: 'priority', direction: 'left-to-right' }] })
    const e = error(project(plain, c, plain.fields[0] as MappedField, 'left', 'P1'))
    expect(e.code).toBe('unmappable_value')
    expect(e.message).toContain('urgent')
    expect(value(project(plain, c, plain.fields[0] as MappedField, 'left', 'HIGH'))).toBe('high')
  })

  it('refuses to write a field the target cannot set', () => {
    const ro = mapping({ fields: [{ left: 'Site', right: 'externalId', direction: 'both' }] })
    expect(error(project(ro, c, ro.fields[0] as MappedField, 'left', 'Berlin'))).toBeInstanceOf(FieldNotWritableError)
  })

  it('writes people as their names into a text field', () => {
    const people = mapping({ fields: [{ left: 'Owner', right: 'assignees', direction: 'right-to-left' }] })
    const f = people.fields[0] as MappedField
    expect(value(project(people, c, f, 'right', ['Ada Lovelace', 'Grace Hopper']))).toBe('Ada Lovelace, Grace Hopper')
  })
})
