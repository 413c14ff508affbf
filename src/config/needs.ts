/**
 * What a mapping asks of the kind on each side, as the role ports its module declares
 * (src/connectors/registry.ts). Writing a field, creating or deleting records needs a record
 * writer on the side written; comments need a comment writer on the side they are copied to
 * and a reader that mirrors them on the side they come from; attachments a reader of files
 * on the source and an uploader on the target; related items a relation writer on the target
 * and a reader that mirrors them on the source; watchers likewise. Every side needs a field catalog.
 */
import type { ChildKind } from '../connectors/types.js'
import type { PortName } from '../engine/ports.js'
import type { PathSegment } from './errors.js'
import type { MappingConfig } from './schema.mapping.js'

export type Side = 'left' | 'right'

export interface SideNeed {
  readonly side: Side
  /** Where in the mapping file the need comes from. */
  readonly path: readonly PathSegment[]
  readonly ports: readonly PortName[]
  readonly children: readonly ChildKind[]
  /** The issue when the side's kind lacks a port or child; `kinds` are those that have them all. */
  message(connection: string, kind: string, kinds: readonly string[]): string
}

const SIDES = ['left', 'right'] as const
const supported = (kinds: readonly string[]) => (kinds.length > 0 ? kinds.join(', ') : 'no kind')

/** The sides data flows towards, and from, in a direction. */
function flow(direction: string): { to: Side[]; from: Side[] } {
  const to: Side[] = []
  const from: Side[] = []
  if (direction === 'both' || direction === 'left-to-right') {
    to.push('right')
    from.push('left')
  }
  if (direction === 'both' || direction === 'right-to-left') {
    to.push('left')
    from.push('right')
  }
  return { to, from }
}

interface ChildFlow {
  readonly label: string
  readonly path: readonly PathSegment[]
  readonly direction: string
  readonly target: { ports: readonly PortName[]; children: readonly ChildKind[] }
  readonly source: { ports: readonly PortName[]; children: readonly ChildKind[] }
}

function childFlows(m: MappingConfig): ChildFlow[] {
  return [
    {
      label: 'comments',
      path: ['comments'],
      direction: m.comments,
      target: { ports: ['comments'], children: [] },
      source: { ports: [], children: ['comments'] },
    },
    {
      label: 'attachments',
      path: ['attachments', 'direction'],
      direction: m.attachments.direction,
      target: { ports: ['attachmentUploader'], children: [] },
      source: { ports: ['attachmentReader'], children: ['attachments'] },
    },
    {
      label: 'related items',
      path: ['related'],
      direction: m.related,
      target: { ports: ['relations'], children: [] },
      source: { ports: [], children: ['relations'] },
    },
    {
      label: 'watchers',
      path: ['watchers'],
      direction: m.watchers,
      target: { ports: ['watchers'], children: [] },
      source: { ports: [], children: ['watchers'] },
    },
  ]
}

/** Sides a mapping writes records to: where fields flow, records are created, or deletions propagate. */
function sidesWritten(m: MappingConfig): Set<Side> {
  const out = new Set<Side>()
  for (const d of [m.create, ...m.fields.map((f) => f.direction), m.delete === 'propagate' ? 'both' : 'none']) for (const s of flow(d).to) out.add(s)
  return out
}

export function mappingNeeds(m: MappingConfig): SideNeed[] {
  const needs: SideNeed[] = []
  for (const c of childFlows(m)) {
    const { to, from } = flow(c.direction)
    for (const side of SIDES) {
      const target = to.includes(side)
      const source = from.includes(side)
      if (!target && !source) continue
      const verb = target && source ? 'are not supported by' : target ? 'cannot be copied to' : 'cannot be copied from'
      needs.push({
        side,
        path: c.path,
        ports: [...(target ? c.target.ports : []), ...(source ? c.source.ports : [])],
        children: [...(target ? c.target.children : []), ...(source ? c.source.children : [])],
        message: (connection, kind, kinds) =>
          `${c.label} ${verb} the ${side} side: connection "${connection}" is kind ${kind} (supported by ${supported(kinds)})`,
      })
    }
  }
  const ofConnection = (side: Side, port: PortName, message: SideNeed['message']): SideNeed => ({
    side,
    path: [side, 'connection'],
    ports: [port],
    children: [],
    message,
  })
  for (const side of sidesWritten(m)) {
    needs.push(
      ofConnection(
        side,
        'records',
        (connection, kind, kinds) =>
          `connection "${connection}" is kind ${kind}, which is read-only (records are written to ${supported(kinds)}), but this mapping writes to its side (check create, delete and the direction of fields)`,
      ),
    )
  }
  // a deletion on either side is carried to the other: both must be able to delete
  if (m.delete === 'propagate') {
    for (const side of SIDES) {
      needs.push({
        side,
        path: ['delete'],
        ports: ['recordDeletes'],
        children: [],
        message: (connection, kind, kinds) =>
          `propagate deletes records on the ${side} side, but connection "${connection}" is kind ${kind}, whose API cannot delete records (kinds that can: ${supported(kinds)}); use unlink or ignore`,
      })
    }
  }
  for (const side of SIDES) {
    needs.push(
      ofConnection(
        side,
        'fields',
        (connection, kind, kinds) =>
          `connection "${connection}" is kind ${kind}, which has no field catalog to map fields with (kinds with one: ${supported(kinds)})`,
      ),
    )
  }
  return needs
}
