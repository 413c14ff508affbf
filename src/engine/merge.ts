import { createMarkerFormat } from './attribution.js'
import { mergeField } from './merge.field.js'
import { fieldLabel, isEmpty, project, readSide, sameValue, streamOf, type SideCatalogs } from './project.js'
import { createScope, type ScopeTest } from './scope.js'
import {
  otherSide,
  type Base,
  type ConflictRecord,
  type CreatePolicy,
  type FieldDecision,
  type Link,
  type MappingSpec,
  type MirroredRecord,
  type OutboxRequest,
  type ReconcileTx,
  type Side,
} from './write.types.js'

/**
 * One record of a mapping reconciled with its counterpart (pure): scope, creates, deletes
 * and the per-field merge (merge.field.ts), giving the link's change, the writes to queue
 * (at most one update per side, with the changed fields only), the conflicts to record and
 * a decision per field that moved, as provenance.
 *
 * - Scope: a record outside its side's `filter` takes no part: no link is created, an
 *   existing link is left alone.
 * - Create: a record without a link, where `create` lets records flow from its side, gets a
 *   link in state `creating` and a `create` of every field its direction lets flow, with
 *   the create marker (which needs the link's id: see `bindNewLink`). The link's base is set
 *   from the planned values, so the created record, read back, equals it, and the source's
 *   later edits win over the created copy's defaults. Fields that flow only the other way
 *   get their base at the first merge (merge.field.ts). Until the counterpart is mirrored
 *   nothing else is planned: the source's later edits differ from the base then, and flow
 *   as updates (a second create could race the first one's push).
 * - Delete (either side): `ignore` does nothing, `unlink` unlinks, `propagate` deletes the
 *   counterpart and unlinks. An unlinked link is never synced again (nor recreated).
 */

export interface ReconcileInput {
  mapping: MappingSpec
  link: Link | null
  left: MirroredRecord | null
  right: MirroredRecord | null
  catalogs: SideCatalogs
  /** When the merge runs. No rule reads the local clock today (`newest` compares the vendors' own times); passed so that one can, purely. */
  now: Date
  /** The sides' compiled filters (reconcile.ts compiles them once per mapping); compiled here when absent. */
  scope?: Readonly<Record<Side, ScopeTest>>
}

export type LinkInit = Parameters<ReconcileTx['createLink']>[1]

export type LinkChange = { kind: 'create'; init: LinkInit } | { kind: 'update'; link: Link }

export type SkipReason = 'out-of-scope' | 'unlinked' | 'deleted' | 'no-create' | 'waiting'

export interface ReconcileOutcome {
  link: LinkChange | null
  requests: OutboxRequest[]
  conflicts: ConflictRecord[]
  decisions: FieldDecision[]
  /** Why nothing was planned, when nothing was. */
  skipped?: SkipReason
}

/** The link id of requests planned for a link that does not exist yet (`bindNewLink` sets it). */
export const NEW_LINK = 0

const SIDES: readonly Side[] = ['left', 'right']

const nothing = (skipped?: SkipReason): ReconcileOutcome => ({ link: null, requests: [], conflicts: [], decisions: [], ...(skipped ? { skipped } : {}) })

export function scopesOf(mapping: MappingSpec, catalogs: SideCatalogs): Record<Side, ScopeTest> {
  return { left: createScope(mapping.left.filter, catalogs.left), right: createScope(mapping.right.filter, catalogs.right) }
}

const createFlows = (policy: CreatePolicy, from: Side): boolean => policy === 'both' || policy === (from === 'left' ? 'left-to-right' : 'right-to-left')

export function reconcileRecord(input: ReconcileInput): ReconcileOutcome {
  const { mapping, link } = input
  const scope = input.scope ?? scopesOf(mapping, input.catalogs)
  for (const side of SIDES) {
    const r = input[side]
    if (r && !scope[side](r.snapshot)) return nothing('out-of-scope')
  }
  if (!link) return planCreate(input)
  if (link.state === 'unlinked') return nothing('unlinked')
  const deleted = SIDES.find((s) => input[s]?.deleted)
  if (deleted) return planDelete(input, link, deleted)
  // the counterpart is still being created (its id comes with the push), or not mirrored yet
  if (!input.left || !input.right) return nothing('waiting')
  return mergeLinked(input, link, input.left, input.right)
}

function planCreate(input: ReconcileInput): ReconcileOutcome {
  const { mapping, catalogs } = input
  // without a link reconcile knows only the changed record
  const source: Side = input.left ? 'left' : 'right'
  const record = input[source]
  if (!record || record.deleted) return nothing('deleted')
  if (!createFlows(mapping.create, source)) return nothing('no-create')
  const target = otherSide(source)
  const base: Base = {}
  const values: Record<string, unknown> = {}
  const decisions: FieldDecision[] = []
  mapping.fields.forEach((f, i) => {
    if (f.direction === (source === 'left' ? 'right-to-left' : 'left-to-right')) return
    const value = readSide(mapping, catalogs, source, f, record.snapshot)
    const d: FieldDecision = { field: fieldLabel(f), base: null, left: null, right: null, rule: 'create', target, [source]: value }
    const p = project(mapping, catalogs, f, source, value)
    if (!p.ok) {
      decisions.push({ ...d, error: { code: p.error.code, message: p.error.message } })
      return
    }
    base[String(i)] = source === 'left' ? { left: value, right: p.value } : { left: p.value, right: value }
    if (isEmpty(p.value)) return
    values[f[target]] = p.value
    decisions.push({ ...d, written: p.value })
  })
  const init = {
    leftRemoteId: source === 'left' ? record.remoteId : null,
    rightRemoteId: source === 'right' ? record.remoteId : null,
    state: 'creating' as const,
    base,
  }
  const request: OutboxRequest = {
    mappingId: mapping.id,
    linkId: NEW_LINK,
    target,
    stream: streamOf(mapping, target),
    op: 'create',
    remoteId: null,
    values,
    decisions: decisions.filter((d) => d.error === undefined),
  }
  return { link: { kind: 'create', init }, requests: [request], conflicts: [], decisions }
}

/** The requests planned with a new link, once the store has created it: its id, and the create marker that names it. */
export function bindNewLink(outcome: ReconcileOutcome, link: Link, mapping: MappingSpec): OutboxRequest[] {
  const marker = createMarkerFormat(mapping.marker).line({ mapping: mapping.id, link: String(link.id) })
  return outcome.requests.map((r) => ({ ...r, linkId: link.id, ...(r.op === 'create' ? { marker } : {}) }))
}

function planDelete(input: ReconcileInput, link: Link, deleted: Side): ReconcileOutcome {
  const { mapping } = input
  if (mapping.delete === 'ignore') return nothing('deleted')
  const unlinked: LinkChange = { kind: 'update', link: { ...link, state: 'unlinked' } }
  const other = otherSide(deleted)
  const counterpartId = other === 'left' ? link.leftRemoteId : link.rightRemoteId
  const counterpart = input[other]
  if (mapping.delete === 'unlink' || counterpartId === null || counterpart?.deleted) return { ...nothing(), link: unlinked }
  const request: OutboxRequest = {
    mappingId: mapping.id,
    linkId: link.id,
    target: other,
    stream: streamOf(mapping, other),
    op: 'delete',
    remoteId: counterpartId,
    values: {},
    decisions: [],
  }
  return { ...nothing(), link: unlinked, requests: [request] }
}

function mergeLinked(input: ReconcileInput, link: Link, left: MirroredRecord, right: MirroredRecord): ReconcileOutcome {
  const { mapping, catalogs } = input
  const ctx = { mapping, catalogs, left, right }
  const base: Base = { ...link.base }
  const held = new Set(link.heldFields)
  const decisions: FieldDecision[] = []
  const conflicts: ConflictRecord[] = []
  const writes: Record<Side, { values: Record<string, unknown>; decisions: FieldDecision[] }> = {
    left: { values: {}, decisions: [] },
    right: { values: {}, decisions: [] },
  }
  mapping.fields.forEach((f, i) => {
    const key = String(i)
    const out = mergeField(ctx, f, base[key], held.has(fieldLabel(f)))
    if (out.decision) decisions.push(out.decision)
    if (out.base) base[key] = out.base
    if (out.hold) held.add(fieldLabel(f))
    if (out.conflict) conflicts.push(out.conflict)
    if (out.write && out.decision) {
      writes[out.write.target].values[out.write.name] = out.write.value
      writes[out.write.target].decisions.push(out.decision)
    }
  })
  const requests: OutboxRequest[] = []
  for (const target of SIDES) {
    const w = writes[target]
    if (Object.keys(w.values).length === 0) continue
    const remoteId = target === 'left' ? left.remoteId : right.remoteId
    requests.push({
      mappingId: mapping.id,
      linkId: link.id,
      target,
      stream: streamOf(mapping, target),
      op: 'update',
      remoteId,
      values: w.values,
      decisions: w.decisions,
    })
  }
  // both records exist: a create, if this link had one, is done
  const next: Link = { ...link, base, heldFields: [...held], state: 'linked' }
  return { link: sameValue(next, link) ? null : { kind: 'update', link: next }, requests, conflicts, decisions }
}
