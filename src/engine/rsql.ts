/**
 * RSQL as Elementum documents it: `== != =gt= =ge= =lt= =le= =bt= (=nbt=, !bt=, =!bt=) =in= =out= =lk=`,
 * `;` (AND) binds tighter than `,` (OR), parentheses group. Selectors are field display
 * names and may contain spaces. Values are unquoted (running up to `;` `,` `)`), or quoted with
 * '...' / "..." and backslash escapes. Positions in errors are 0-based character offsets.
 */

export type RsqlOperator = '==' | '!=' | '=gt=' | '=ge=' | '=lt=' | '=le=' | '=bt=' | '=nbt=' | '=in=' | '=out=' | '=lk='

export type RsqlNode = { kind: 'and' | 'or'; children: RsqlNode[] } | { kind: 'cmp'; selector: string; op: RsqlOperator; args: string[]; position: number }

export class RsqlSyntaxError extends Error {
  constructor(
    readonly position: number,
    readonly reason: string,
  ) {
    super(`Invalid filter at position ${position}: ${reason}`)
  }
}

const OPERATORS: Readonly<Record<string, RsqlOperator>> = {
  '==': '==',
  '!=': '!=',
  '=gt=': '=gt=',
  '=ge=': '=ge=',
  '=lt=': '=lt=',
  '=le=': '=le=',
  '=bt=': '=bt=',
  '=nbt=': '=nbt=',
  '!bt=': '=nbt=',
  '=!bt=': '=nbt=',
  '=in=': '=in=',
  '=out=': '=out=',
  '=lk=': '=lk=',
}
const OPERATOR_TOKEN = /^(?:!bt=|!=|=!?[A-Za-z]*=)/
const SELECTOR_STOP = new Set(['=', '!', ';', ',', '(', ')', "'", '"'])
const VALUE_STOP = new Set([';', ',', ')'])
/** Full ISO-8601 instants at the head of a string; used to split `:`-separated lists. */
const ISO_HEAD = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?Z/

interface Value {
  text: string
  quoted: boolean
  position: number
}

class Parser {
  private pos = 0
  constructor(private readonly src: string) {}

  parse(): RsqlNode {
    const node = this.parseOr()
    this.skipWs()
    if (this.pos < this.src.length) this.fail(`unexpected character '${this.src[this.pos]}'`)
    return node
  }

  private fail(reason: string, at: number = this.pos): never {
    throw new RsqlSyntaxError(at, reason)
  }

  private skipWs(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos] as string)) this.pos++
  }

  private peek(): string | undefined {
    return this.src[this.pos]
  }

  private parseOr(): RsqlNode {
    const children = [this.parseAnd()]
    for (this.skipWs(); this.peek() === ','; this.skipWs()) {
      this.pos++
      children.push(this.parseAnd())
    }
    return children.length === 1 ? (children[0] as RsqlNode) : { kind: 'or', children }
  }

  private parseAnd(): RsqlNode {
    const children = [this.parsePrimary()]
    for (this.skipWs(); this.peek() === ';'; this.skipWs()) {
      this.pos++
      children.push(this.parsePrimary())
    }
    return children.length === 1 ? (children[0] as RsqlNode) : { kind: 'and', children }
  }

  private parsePrimary(): RsqlNode {
    this.skipWs()
    if (this.peek() !== '(') return this.parseComparison()
    this.pos++
    const inner = this.parseOr()
    this.skipWs()
    if (this.peek() !== ')') this.fail("expected ')'")
    this.pos++
    return inner
  }

  private parseComparison(): RsqlNode {
    const start = this.pos
    while (this.pos < this.src.length && !SELECTOR_STOP.has(this.src[this.pos] as string)) this.pos++
    const selector = this.src.slice(start, this.pos).trim()
    if (selector === '') this.fail(this.pos >= this.src.length ? 'unexpected end of filter, expected a selector' : 'expected a selector', start)
    const opPos = this.pos
    const token = OPERATOR_TOKEN.exec(this.src.slice(opPos))?.[0]
    if (token === undefined) this.fail('expected an operator')
    const op = OPERATORS[token]
    if (op === undefined) this.fail(`unknown operator '${token}'`)
    this.pos += token.length
    this.skipWs()
    const args = this.peek() === '(' ? this.parseList() : [this.parseValue()]
    return { kind: 'cmp', selector, op, args: normalizeArgs(op, args, opPos), position: start }
  }

  private parseList(): Value[] {
    const open = this.pos
    this.pos++
    const out: Value[] = []
    for (;;) {
      out.push(this.parseValue())
      this.skipWs()
      const c = this.peek()
      if (c === ',') {
        this.pos++
        continue
      }
      if (c === ')') {
        this.pos++
        return out
      }
      this.fail(c === undefined ? `unclosed '(' opened at position ${open}` : "expected ',' or ')'")
    }
  }

  private parseValue(): Value {
    this.skipWs()
    const position = this.pos
    const c = this.peek()
    if (c === undefined) this.fail('unexpected end of filter, expected a value')
    if (c === "'" || c === '"') return { text: this.readQuoted(c), quoted: true, position }
    while (this.pos < this.src.length && !VALUE_STOP.has(this.src[this.pos] as string)) {
      const ch = this.src[this.pos] as string
      if (ch === '(' || ch === "'" || ch === '"') this.fail(`unexpected '${ch}' in an unquoted value (quote the value)`)
      this.pos++
    }
    const text = this.src.slice(position, this.pos).trim()
    if (text === '') this.fail('expected a value', position)
    return { text, quoted: false, position }
  }

  private readQuoted(quote: string): string {
    const open = this.pos
    this.pos++
    let text = ''
    while (this.pos < this.src.length) {
      const ch = this.src[this.pos] as string
      if (ch === '\\' && this.pos + 1 < this.src.length) {
        text += this.src[this.pos + 1]
        this.pos += 2
        continue
      }
      this.pos++
      if (ch === quote) return text
      text += ch
    }
    return this.fail('unterminated quoted value', open)
  }
}

/** `from:to`, split after the first `Z` so ISO instants keep their colons; else at a lone colon. */
export function splitRange(v: string): [string, string] | undefined {
  const z = v.indexOf('Z')
  let pair: [string, string] | undefined
  if (z >= 0 && v[z + 1] === ':') pair = [v.slice(0, z + 1), v.slice(z + 2)]
  else {
    const c = v.indexOf(':')
    if (c >= 0 && v.indexOf(':', c + 1) < 0) pair = [v.slice(0, c), v.slice(c + 1)]
  }
  return pair && pair[0] !== '' && pair[1] !== '' ? pair : undefined
}

/** `a:b:c` (the docs' `=in=` form), keeping ISO instants whole. */
function splitColonList(v: string): string[] {
  const out: string[] = []
  let rest = v
  for (;;) {
    const iso = ISO_HEAD.exec(rest)?.[0]
    const end = iso !== undefined && (rest.length === iso.length || rest[iso.length] === ':') ? iso.length : rest.indexOf(':')
    if (end < 0) return [...out, rest]
    out.push(rest.slice(0, end))
    if (end >= rest.length) return out
    rest = rest.slice(end + 1)
  }
}

function normalizeArgs(op: RsqlOperator, args: Value[], opPos: number): string[] {
  const first = args[0] as Value
  if (op === '=in=' || op === '=out=') {
    if (args.length === 1 && !first.quoted) return splitColonList(first.text)
    return args.map((a) => a.text)
  }
  if (op === '=bt=' || op === '=nbt=') {
    if (args.length === 2) return args.map((a) => a.text)
    const range = args.length === 1 ? splitRange(first.text) : undefined
    if (!range) throw new RsqlSyntaxError(first.position, `${op} expects from:to (ISO-8601 YYYY-MM-DDTHH:MM:SS.SSSZ bounds)`)
    return range
  }
  if (args.length !== 1) throw new RsqlSyntaxError(opPos, `operator ${op} takes a single value`)
  return [first.text]
}

export function parseRsql(src: string): RsqlNode {
  return new Parser(src).parse()
}

// ---------------------------------------------------------------- evaluation

export type RsqlPredicate = (data: Readonly<Record<string, string>>) => boolean

interface Operand {
  raw: string
  time: number | undefined
  num: number | undefined
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/

function operand(raw: string): Operand {
  const time = ISO_DATE.test(raw) ? Date.parse(raw) : NaN
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

export function compileNode(node: RsqlNode): RsqlPredicate {
  if (node.kind === 'cmp') return compileComparison(node)
  const parts = node.children.map(compileNode)
  return node.kind === 'and' ? (d) => parts.every((p) => p(d)) : (d) => parts.some((p) => p(d))
}

/** Parses and compiles a filter; throws RsqlSyntaxError with the offending position. */
export function compileRsql(src: string): RsqlPredicate {
  return compileNode(parseRsql(src))
}
