import { SyncError } from './errors.js'
import { mergeField } from './merge.field.js'
import { fieldLabel, streamOf, type SideCatalogs } from './project.js'
import { otherSide, type ConflictStore, type MappingSpec, type OutboxRequest, type Side } from './write.types.js'

/**
 * An admin's resolution of an open `manual` conflict: the winner's current value is written to
 * the other side (queued in the outbox as reconcile would queue it), the field's base moves to
 * the agreed values and the field is no longer held, so that later edits flow again; the
 * conflict is marked resolved by `admin`. All in one transaction: a crash leaves the conflict
 * open and nothing queued, or all of it done.
 */

/** A resolution that cannot be made; `code` says why (the admin API answers 404 or 409). */
export class ResolveError extends SyncError {
  constructor(
    override readonly code: 'conflict_not_found' | 'conflict_not_open' | 'mapping_not_configured' | 'link_gone' | 'field_not_mapped' | 'unresolvable',
    message: string,
  ) {
    super(message)
  }
}

export interface Resolution {
  conflictId: number
  mappingId: string
  linkId: number
  field: string
  winner: Side
  /** The value written to the losing side (its form), or its value already when both agree. */
  value: unknown
  /** The write queued; null when the losing side already holds the value. */
  outboxId: number | null
}

export interface ResolveOptions {
  store: ConflictStore
  /** The configured mapping of this id and its sides' field catalogs; null when it is not configured. */
  mapping: (id: string) => { spec: MappingSpec; catalogs: SideCatalogs } | null
  conflictId: number
  winner: Side
  by?: string
}

export async function resolveConflict(opts: ResolveOptions): Promise<Resolution> {
  const { winner } = opts
  return opts.store.transaction(async (tx) => {
    const conflict = await tx.lockConflict(opts.conflictId)
    if (!conflict) throw new ResolveError('conflict_not_found', `no conflict ${opts.conflictId}`)
    if (conflict.state !== 'open') throw new ResolveError('conflict_not_open', `conflict ${conflict.id} is already resolved`)
    const configured = opts.mapping(conflict.mappingId)
    if (!configured) throw new ResolveError('mapping_not_configured', `mapping ${conflict.mappingId} is not configured`)
    const { spec, catalogs } = configured
    const index = spec.fields.findIndex((f) => fieldLabel(f) === conflict.field)
    const f = spec.fields[index]
    if (!f) throw new ResolveError('field_not_mapped', `mapping ${spec.id} no longer maps ${conflict.field}`)
    if (f.direction !== 'both' && f.direction !== (winner === 'left' ? 'left-to-right' : 'right-to-left'))
      throw new ResolveError('unresolvable', `${conflict.field} flows ${f.direction} only: the ${winner} side cannot win`)
    const link = await tx.findLinkById(spec.id, conflict.linkId)
    const left = link?.leftRemoteId ? await tx.loadRecord(streamOf(spec, 'left'), link.leftRemoteId) : null
    const right = link?.rightRemoteId ? await tx.loadRecord(streamOf(spec, 'right'), link.rightRemoteId) : null
    if (!link || link.state === 'unlinked' || !left || !right || left.deleted || right.deleted)
      throw new ResolveError('link_gone', `the records of conflict ${conflict.id} are no longer linked`)

    const out = mergeField({ mapping: spec, catalogs, left, right }, f, link.base[String(index)], true, winner)
    const error = out.decision?.error
    if (error || !out.base)
      throw new ResolveError('unresolvable', `the ${winner} value of ${conflict.field} cannot be written: ${error?.message ?? 'no value'}`)
    await tx.updateLink({ ...link, base: { ...link.base, [String(index)]: out.base }, heldFields: link.heldFields.filter((h) => h !== conflict.field) })
    let outboxId: number | null = null
    if (out.write && out.decision) {
      const target = out.write.target
      const request: OutboxRequest = {
        mappingId: spec.id,
        linkId: link.id,
        target,
        stream: streamOf(spec, target),
        op: 'update',
        remoteId: target === 'left' ? left.remoteId : right.remoteId,
        values: { [out.write.name]: out.write.value },
        decisions: [out.decision],
      }
      outboxId = await tx.enqueue(request)
    }
    await tx.markResolved(conflict.id, winner, opts.by ?? 'admin')
    const loser = otherSide(winner)
    return {
      conflictId: conflict.id,
      mappingId: spec.id,
      linkId: link.id,
      field: conflict.field,
      winner,
      value: out.write ? out.write.value : out.base[loser],
      outboxId,
    }
  })
}
