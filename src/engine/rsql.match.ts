/**
 * Evaluation of a parsed RSQL filter against a record's display-name → string map, as the
 * Elementum simulator and the after-read stream filter need it.
 */
import { DATE_VALUE } from './rsql.dates.js'

export type RsqlOperator = '==' | '!=' | '=gt=' | '=ge=' | '=lt=' | '=le=' | '=bt=' | '=nbt=' | '=in=' | '=out=' | '=lk='

/** The parsed filter (rsql.ts builds it): `;` and `,` groups, and comparisons with their 0-based position. */
export type RsqlNode = { kind: 'and' | 'or'; children: RsqlNode[] } | { kind: 'cmp'; selector: string; op: RsqlOperator; args: string[]; position: number }

export type RsqlPredicate = (data: Readonly<Record<string, string>>) => boolean

interface Operand {
  raw: string
  time: number | undefined
  num: number | undefined
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/

function operand(raw: string): Operand {
  const time = DATE_VALUE.test(raw) ? Date.parse(raw) : NaN
  return { raw, time: Number.isNaN(time) ? undefined : time, num: NUMBER.test(raw) ? Number(raw) : undefined }
}

/** Time if both sides are ISO dates, else number if both are numeric, else code-point order. */
function compareValues(a: Operand, b: Operand): number {
  if (a.time !== undefined && b.time !== undefined) return Math.sign(a.time - b.time)
  if (a.num !== undefined && b.num !== undefined) return Math.sign(a.num - b.num)
  return a.raw < b.raw ? -1 : a.raw > b.raw ? 1 : 0
}

function likeRegex(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')
  return new RegExp(`^${body}$`, 'is')
}

/** A predicate for one comparison; a field the record lacks matches only the negated operators. */
function compileComparison(node: Extract<RsqlNode, { kind: 'cmp' }>): RsqlPredicate {
  const { selector, op } = node
  const args = node.args.map(operand)
  const one = args[0] as Operand
  const like = op === '=lk=' ? likeRegex(one.raw) : undefined
  const test = (v: Operand): boolean => {
    switch (op) {
      case '==':
      case '!=':
        return compareValues(v, one) === 0
      case '=gt=':
        return compareValues(v, one) > 0
      case '=ge=':
        return compareValues(v, one) >= 0
      case '=lt=':
        return compareValues(v, one) < 0
      case '=le=':
        return compareValues(v, one) <= 0
      case '=bt=':
      case '=nbt=':
        return compareValues(v, one) >= 0 && compareValues(v, args[1] as Operand) <= 0
      case '=in=':
      case '=out=':
        return args.some((a) => compareValues(v, a) === 0)
      case '=lk=':
        return like?.test(v.raw) === true
    }
  }
  const negated = op === '!=' || op === '=nbt=' || op === '=out='
  return (data) => {
    const raw = data[selector]
    const positive = raw !== undefined && test(operand(raw))
    return negated ? !positive : positive
  }
}

/** Recursion is safe: the parser bounds the nesting depth of the tree. */
export function compileNode(node: RsqlNode): RsqlPredicate {
  if (node.kind === 'cmp') return compileComparison(node)
  const parts = node.children.map(compileNode)
  return node.kind === 'and' ? (d) => parts.every((p) => p(d)) : (d) => parts.some((p) => p(d))
}
