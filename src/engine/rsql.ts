/**
 * RSQL as Elementum documents it (DESIGN.md §1), parsed strictly: a filter with a typo is an
 * error naming its position, never a filter that quietly matches nothing.
 *
 *   filter     = or
 *   or         = and *( "," and )                 ; `;` (AND) binds tighter than `,` (OR)
 *   and        = group *( ";" group )
 *   group      = "(" or ")" / comparison          ; at most RSQL_MAX_DEPTH levels deep
 *   comparison = selector operator ( value / "(" value *( "," value ) ")" )
 *
 * Operators: `== != =gt= =ge= =lt= =le= =bt= =nbt= (!bt=, =!bt=) =in= =out= =lk=`; any other
 * (`===`, `~=`, `=EQ=`, `<`) is refused. Selectors are display names and may contain spaces;
 * unquoted values run up to `;` `,` `)` and may contain spaces too. Neither may contain a
 * reserved character `" ' ( ) ; , < > ~ ! =`; values may be quoted ('...' or "...", backslash
 * escapes) to hold them. An empty value is refused, quoted or not, and so is `and`/`or` as a
 * word of an unquoted value (`Status==Open and Priority==P1`). `=bt=`/`=nbt=` take exactly two
 * bounds, `from:to` (split after the first `Z`, not at the first colon) or `(from,to)`, each an
 * ISO-8601 UTC instant. Date fields and date values: see rsql.dates.ts. Positions in errors
 * are 0-based character offsets into the filter.
 */
import { RsqlSyntaxError } from './errors.js'
import { DATE_HINT, INSTANT_HINT, ISO_HEAD, dateFieldTest, isDateValue, isInstant, looksLikeDate } from './rsql.dates.js'
import { compileNode, type RsqlNode, type RsqlOperator, type RsqlPredicate } from './rsql.match.js'

export { RsqlSyntaxError } from './errors.js'
export { compileNode, type RsqlNode, type RsqlOperator, type RsqlPredicate } from './rsql.match.js'

/**
 * Deeper than any hand-written filter needs, shallow enough that parsing and compiling (both
 * recursive) stay far from the stack limit whatever the input: 10 000 `(` is a syntax error.
 */
export const RSQL_MAX_DEPTH = 64

export interface RsqlOptions {
  /** Selectors that hold dates besides those whose names read as dates (see rsql.dates.ts). */
  readonly dateFields?: Iterable<string>
  readonly maxDepth?: number
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
const OPERATOR_LIST = Object.keys(OPERATORS).join(' ')
/** `=xx=`, `=!xx=`, `!xx=`, else the whole run of operator characters, so `===` and `~==` are named as typed. */
const OPERATOR_TOKEN = /=!?[A-Za-z]+=|![A-Za-z]+=|[=!~<>]+/y
const RESERVED = new Set(['"', "'", '(', ')', ';', ',', '<', '>', '~', '!', '='])
const OPERATOR_START = new Set(['=', '!', '~', '<', '>'])
const ENDS_VALUE = new Set([';', ',', ')'])
const ORDERED = new Set<RsqlOperator>(['=gt=', '=ge=', '=lt=', '=le='])
const PLAIN_LOGIC = /(?:^|\s)(and|or)(?:\s|$)/i

const plainLogic = (word: string) => `plain-text '${word}' is not an RSQL operator: use ';' for AND and ',' for OR (quote the value if the word belongs to it)`

interface Value {
  text: string
  quoted: boolean
  position: number
}

class Parser {
  private pos = 0
  private depth = 0
  constructor(
    private readonly src: string,
    private readonly isDateField: (selector: string) => boolean,
    private readonly maxDepth: number,
  ) {}

  parse(): RsqlNode {
    this.skipWs()
    if (this.pos >= this.src.length) this.fail('empty filter, expected a comparison such as Status==Open')
    const node = this.parseOr()
    if (this.peek() === ')') this.fail("unbalanced ')': there is no '(' to close")
    if (this.pos < this.src.length) this.failAfterOperand("';' (AND), ',' (OR) or the end of the filter")
    return node
  }

  private fail(reason: string, at: number = this.pos): never {
    throw new RsqlSyntaxError(at, reason)
  }

  /** After a comparison or a group only `;`, `,`, `)` or the end may follow. */
  private failAfterOperand(expected: string): never {
    const word = /^(and|or)\b/i.exec(this.src.slice(this.pos, this.pos + 4))?.[1]
    if (word !== undefined) this.fail(plainLogic(word))
    const c = this.peek()
    this.fail(c === undefined ? `unexpected end of filter, expected ${expected}` : `unexpected '${c}', expected ${expected}`)
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
    const children = [this.parseGroup()]
    for (this.skipWs(); this.peek() === ';'; this.skipWs()) {
      this.pos++
      children.push(this.parseGroup())
    }
    return children.length === 1 ? (children[0] as RsqlNode) : { kind: 'and', children }
  }

  private parseGroup(): RsqlNode {
    this.skipWs()
    if (this.peek() !== '(') return this.parseComparison()
    const open = this.pos
    if (++this.depth > this.maxDepth) this.fail(`parentheses nested more than ${this.maxDepth} levels deep`)
    this.pos++
    const inner = this.parseOr()
    if (this.peek() !== ')') this.failAfterOperand(`';', ',' or ')' to close the '(' at position ${open}`)
    this.pos++
    this.depth--
    return inner
  }

  private parseComparison(): RsqlNode {
    const position = this.pos
    const selector = this.parseSelector()
    const opPos = this.pos
    OPERATOR_TOKEN.lastIndex = opPos
    // parseSelector stopped at an operator character, so the token is never empty.
    const token = OPERATOR_TOKEN.exec(this.src)?.[0] ?? ''
    const op = OPERATORS[token]
    if (op === undefined) this.fail(`unknown operator '${token}', expected one of ${OPERATOR_LIST}`)
    this.pos += token.length
    this.skipWs()
    const args = this.peek() === '(' ? this.parseList() : [this.parseValue()]
    return { kind: 'cmp', selector, op, args: this.checkArgs(selector, op, args, opPos), position }
  }

  private parseSelector(): string {
    const start = this.pos
    while (this.pos < this.src.length && !RESERVED.has(this.src[this.pos] as string)) this.pos++
    const selector = this.src.slice(start, this.pos).trim()
    const c = this.peek()
    if (selector === '') this.fail(c === undefined ? 'unexpected end of filter, expected a selector' : `expected a selector, found '${c}'`)
    if (c === undefined) this.fail(`unexpected end of filter, expected an operator after '${selector}'`)
    if (!OPERATOR_START.has(c)) {
      const hint = c === "'" || c === '"' ? ' (selectors cannot be quoted)' : ''
      this.fail(`expected an operator after '${selector}', found '${c}'${hint}`)
    }
    return selector
  }

  private parseList(): Value[] {
    const open = this.pos
    this.pos++
    const out: Value[] = []
    for (;;) {
      out.push(this.parseValue())
      this.skipWs()
      const c = this.peek()
      if (c === ',' || c === ')') this.pos++
      if (c === ')') return out
      if (c === ',') continue
      const expected = `',' or ')' to close the value list at position ${open}`
      this.fail(c === undefined ? `unexpected end of filter, expected ${expected}` : `unexpected '${c}', expected ${expected}`)
    }
  }

  private parseValue(): Value {
    this.skipWs()
    const position = this.pos
    const c = this.peek()
    if (c === undefined) this.fail('unexpected end of filter, expected a value')
    if (c === "'" || c === '"') {
      const text = this.readQuoted(c)
      if (text === '') this.fail('empty value, expected a value', position)
      return { text, quoted: true, position }
    }
    while (this.pos < this.src.length && !RESERVED.has(this.src[this.pos] as string)) this.pos++
    const text = this.src.slice(position, this.pos).trimEnd()
    const logic = PLAIN_LOGIC.exec(text)
    if (logic && /\s/.test(text)) this.fail(plainLogic(logic[1] as string), position + logic.index + (logic[0].length - logic[0].trimStart().length))
    const stop = this.peek()
    if (stop !== undefined && !ENDS_VALUE.has(stop)) this.fail(`reserved character '${stop}' in an unquoted value; quote the value ('...' or "...") to use it`)
    if (text === '') this.fail(stop === undefined ? 'unexpected end of filter, expected a value' : `expected a value, found '${stop}'`)
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
    return this.fail(`unterminated quoted value, expected a closing ${quote}`, open)
  }

  private checkArgs(selector: string, op: RsqlOperator, args: Value[], opPos: number): string[] {
    const first = args[0] as Value
    let values = args
    if (op === '=bt=' || op === '=nbt=') {
      values = args.length === 1 ? splitColonList(first) : args
      if (values.length !== 2) this.fail(`${op} takes exactly two bounds, from:to, got ${values.length}`, first.position)
    } else if (op === '=in=' || op === '=out=') {
      if (args.length === 1 && !first.quoted) values = splitColonList(first)
    } else if (args.length !== 1) {
      this.fail(`operator ${op} takes a single value, not a list`, opPos)
    }
    for (const v of values) this.checkValue(selector, op, v)
    return values.map((v) => v.text)
  }

  private checkValue(selector: string, op: RsqlOperator, v: Value): void {
    const { text, position } = v
    if (text === '') this.fail('empty value in a colon-separated list', position)
    if (op === '=bt=' || op === '=nbt=') {
      if (!isInstant(text)) this.fail(`'${text}' is not an ISO-8601 instant: ${op} bounds are ${INSTANT_HINT}`, position)
    } else if (op !== '=lk=' && this.isDateField(selector)) {
      if (!isDateValue(text)) this.fail(`'${text}' is not a date, and '${selector}' is a date field: expected ${DATE_HINT}`, position)
    } else if (ORDERED.has(op) && looksLikeDate(text) && !isDateValue(text)) {
      this.fail(`'${text}' is not a valid date: expected ${DATE_HINT}`, position)
    }
  }
}

/**
 * `a:b:c` (the docs' `=in=` and `=bt=` form), keeping ISO instants whole so a bound splits
 * after its `Z`, not at its first colon. Positions inside a quoted value would be skewed by
 * escapes, so its parts all point at the quote.
 */
function splitColonList(v: Value): Value[] {
  const out: Value[] = []
  for (let at = 0; at <= v.text.length; ) {
    const rest = v.text.slice(at)
    const iso = ISO_HEAD.exec(rest)?.[0]
    const colon = rest.indexOf(':')
    const end = iso !== undefined && (rest.length === iso.length || rest[iso.length] === ':') ? iso.length : colon < 0 ? rest.length : colon
    out.push({ text: rest.slice(0, end), quoted: v.quoted, position: v.quoted ? v.position : v.position + at })
    at += end + 1
  }
  return out
}

/** Parses a filter; throws RsqlSyntaxError naming the position of the first problem. */
export function parseRsql(src: string, options: RsqlOptions = {}): RsqlNode {
  return new Parser(src, dateFieldTest(options.dateFields), options.maxDepth ?? RSQL_MAX_DEPTH).parse()
}

/** Parses and compiles a filter; throws RsqlSyntaxError with the offending position. */
export function compileRsql(src: string, options: RsqlOptions = {}): RsqlPredicate {
  return compileNode(parseRsql(src, options))
}
