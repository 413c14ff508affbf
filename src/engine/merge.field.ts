import { fieldLabel, isEmpty, project, readSide, sameValue, type SideCatalogs } from './project.js'
import {
  otherSide,
  type BaseValue,
  type ConflictRecord,
  type FieldDecision,
  type MappedField,
  type MappingSpec,
  type MirroredRecord,
  type Side,
} from './write.types.js'

/**
 * The three-way merge of one mapped field against the link's base (pure).
 *
 * - A side changed when its normalized value differs from its base value. Only one side
 *   changed → its value is projected onto the other side, if the field's direction lets it
 *   flow that way (otherwise nothing moves, and the base stays where both last agreed).
 * - Both changed: to values that agree once projected → converged, no write. Otherwise a
 *   one-way field's source wins; else the mapping's conflict policy: `newest` (the later
 *   `remoteUpdatedAt`, a tie or an unknown time → left), `left`, `right`, or `manual`: no
 *   write, the field is held (and stays held until an admin resolves the conflict).
 * - No base yet (a first merge, a field added to the mapping later): values that agree
 *   become the base; else the side the direction allows wins, then the conflict policy as
 *   above (a create's source has its base set by the create, so its values win there:
 *   see merge.ts). On a first merge an empty value never clears a value on the other side,
 *   and a value the other side cannot represent (no entry in the value map) is not
 *   overwritten: both stay as they are until one of them is edited.
 * - After a write the base is the source's value and the projected, target-normalized
 *   value, so that the echo of our write, read back on the next poll, equals the base.
 *   Until that echo arrives the base remembers what the target held (`pending`): a
 *   reconcile in between (the source changed again) must not take the target's old value
 *   for a change and copy it back.
 * - The target showing a third value while our write is pending (neither what it held nor
 *   what we wrote) is a person's edit that crossed our write: the write was not sent (the
 *   executor leaves out a field that moved, push.row.ts), or it was overwritten before we
 *   read it back. Both sides changed then, and the conflict policy decides: taking it for a
 *   change of the target alone would copy it over the source's change unseen.
 */

export interface FieldContext {
  mapping: MappingSpec
  catalogs: SideCatalogs
  left: MirroredRecord
  right: MirroredRecord
}

export interface FieldOutcome {
  decision: FieldDecision | null
  /** The field's new base, when it moves. */
  base?: BaseValue
  write?: { target: Side; name: string; value: unknown }
  conflict?: ConflictRecord
  /** The field becomes held (an open `manual` conflict). */
  hold?: boolean
}

type Rule = FieldDecision['rule']

const updatedAt = (r: MirroredRecord): number => {
  const t = r.remoteUpdatedAt === null ? Number.NaN : Date.parse(r.remoteUpdatedAt)
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t
}

/**
 * `resolve`: an admin's pick for a held field (POST /v1/conflicts/:id/resolve): the winner's
 * current value is written to the other side as a merge would write it, and the base moves.
 */
export function mergeField(ctx: FieldContext, f: MappedField, base: BaseValue | undefined, held: boolean, resolve?: Side): FieldOutcome {
  const { mapping, catalogs } = ctx
  const current: BaseValue = {
    left: readSide(mapping, catalogs, 'left', f, ctx.left.snapshot),
    right: readSide(mapping, catalogs, 'right', f, ctx.right.snapshot),
  }
  // a write of ours not read back yet: its target still showing what it held then is no change
  let seen = current
  let landed = false
  let crossed: Side | null = null
  if (base?.pending) {
    const t = base.pending.target
    if (sameValue(current[t], base[t])) landed = true
    else if (sameValue(current[t], base.pending.previous)) seen = { ...current, [t]: base[t] }
    else crossed = otherSide(t)
  }
  const flows = (from: Side): boolean => f.direction === 'both' || f.direction === (from === 'left' ? 'left-to-right' : 'right-to-left')
  const decision = (rule: Rule, extra: Partial<FieldDecision> = {}): FieldDecision => ({
    field: fieldLabel(f),
    base: base ?? null,
    left: current.left,
    right: current.right,
    rule,
    ...extra,
  })

  /** Projected values agree in a direction the field flows. */
  const agree = (): boolean =>
    (['left', 'right'] as const).some((from) => {
      if (!flows(from)) return false
      const p = project(mapping, catalogs, f, from, seen[from])
      return p.ok && sameValue(p.value, seen[otherSide(from)])
    })

  const push = (from: Side, rule: Rule): FieldOutcome => {
    const to = otherSide(from)
    const p = project(mapping, catalogs, f, from, seen[from])
    if (!p.ok) return { decision: decision(rule, { target: to, error: { code: p.error.code, message: p.error.message } }) }
    const next: BaseValue = from === 'left' ? { left: seen.left, right: p.value } : { left: p.value, right: seen.right }
    if (sameValue(p.value, current[to])) return { decision: decision(rule), base: next }
    return {
      decision: decision(rule, { target: to, written: p.value, name: f[to] }),
      base: { ...next, pending: { target: to, previous: current[to] } },
      write: { target: to, name: f[to], value: p.value },
    }
  }

  const conflict = (winner: Side | null): ConflictRecord => ({
    field: fieldLabel(f),
    leftValue: seen.left,
    rightValue: seen.right,
    base: base ?? null,
    policy: mapping.conflict,
    winner,
  })

  /** The winner of two different values when the direction does not decide; null: held for an admin. */
  const policyWinner = (): Side | null => {
    switch (mapping.conflict) {
      case 'manual':
        return null
      case 'newest':
        return updatedAt(ctx.right) > updatedAt(ctx.left) ? 'right' : 'left'
      default:
        return mapping.conflict
    }
  }
  const directionWinner = (): Side | null => (!flows('right') ? 'left' : !flows('left') ? 'right' : null)

  if (held) return resolve ? push(resolve, 'conflict-manual') : { decision: decision('conflict-manual') }

  if (base === undefined) {
    if (agree()) return { decision: decision('initial'), base: current }
    const winner = directionWinner() ?? policyWinner()
    if (winner === null) return { decision: decision('initial'), conflict: conflict(null), hold: true }
    const loser = otherSide(winner)
    if (isEmpty(current[winner]) && !isEmpty(current[loser])) return { decision: decision('initial'), base: current }
    // the loser's value has no counterpart on the winner's side (a create could not carry it): keep both until an edit
    const back = flows(loser) ? project(mapping, catalogs, f, loser, current[loser]) : null
    if (back && !back.ok) return { decision: decision('initial', { error: { code: back.error.code, message: back.error.message } }), base: current }
    return push(winner, 'initial')
  }

  const changed = { left: !sameValue(seen.left, base.left), right: !sameValue(seen.right, base.right) }
  // the source's change our pending write carried still counts as a change
  if (crossed) changed[crossed] = true
  if (!changed.left && !changed.right) return landed ? { decision: null, base: { left: base.left, right: base.right } } : { decision: null }
  if (changed.left !== changed.right) {
    const from: Side = changed.left ? 'left' : 'right'
    return flows(from) ? push(from, `${from}-changed`) : { decision: decision(`${from}-changed`) }
  }

  if (agree()) return { decision: decision('converged'), base: seen }
  const oneWay = directionWinner()
  if (oneWay) return push(oneWay, `${oneWay}-changed`)
  const winner = policyWinner()
  if (winner === null) return { decision: decision('conflict-manual'), conflict: conflict(null), hold: true }
  return { ...push(winner, `conflict-${mapping.conflict}` as Rule), conflict: conflict(winner) }
}
