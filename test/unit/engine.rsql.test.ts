import { describe, expect, it } from 'vitest'
import { RsqlSyntaxError, SyncError } from '../../src/engine/errors.js'
import { compileRsql, parseRsql, RSQL_MAX_DEPTH, type RsqlNode, type RsqlOptions } from '../../src/engine/rsql.js'

// Vectors in the spirit of the public suites of jirutka/rsql-parser (RSQLParserTest) and
// @rsql/parser (parse.spec), adapted to Elementum's dialect: selectors and values may contain
// spaces, `=bt=` takes `from:to`, and `and`/`or`, `<`/`>` operators and empty values are refused.

/** `sel op a|b`, `and(...)`, `or(...)`: the tree in one line. */
function show(node: RsqlNode): string {
  if (node.kind === 'cmp') return `${node.selector}${node.op}${node.args.join('|')}`
  return `${node.kind}(${node.children.map(show).join(', ')})`
}

const A = '2024-01-01T00:00:00.000Z'
const B = '2024-02-01T00:00:00.000Z'
const nested = (depth: number) => `${'('.repeat(depth)}s==a${')'.repeat(depth)}`

const VALID: Array<[filter: string, tree: string]> = [
  // every operator, with its aliases
  ['sel==val', 'sel==val'],
  ['sel!=val', 'sel!=val'],
  ['sel=gt=val', 'sel=gt=val'],
  ['sel=ge=val', 'sel=ge=val'],
  ['sel=lt=val', 'sel=lt=val'],
  ['sel=le=val', 'sel=le=val'],
  ['sel=in=val', 'sel=in=val'],
  ['sel=out=val', 'sel=out=val'],
  ['sel=lk=val*', 'sel=lk=val*'],
  [`sel=bt=${A}:${B}`, `sel=bt=${A}|${B}`],
  [`sel=nbt=${A}:${B}`, `sel=nbt=${A}|${B}`],
  [`sel!bt=${A}:${B}`, `sel=nbt=${A}|${B}`],
  [`sel=!bt=${A}:${B}`, `sel=nbt=${A}|${B}`],
  // selectors
  ['allons-y==val', 'allons-y==val'],
  ['l00k.dot.path==val', 'l00k.dot.path==val'],
  ['look/XML/path==val', 'look/XML/path==val'],
  ['n:look/n:xml==val', 'n:look/n:xml==val'],
  ['path.to::Ref==val', 'path.to::Ref==val'],
  ['$doll_r.way==val', '$doll_r.way==val'],
  ['Updated on=ge=2024-01-01T00:00:00.000Z', 'Updated on=ge=2024-01-01T00:00:00.000Z'],
  ['Terms and Conditions==Accepted', 'Terms and Conditions==Accepted'],
  ['and==2;or==3', 'and(and==2, or==3)'],
  // unquoted values
  ['sel==«Allons-y»', 'sel==«Allons-y»'],
  ['sel==h@llo', 'sel==h@llo'],
  ['sel==*star*', 'sel==*star*'],
  ['sel==čes*ký', 'sel==čes*ký'],
  ['sel==42', 'sel==42'],
  ['sel==0.15', 'sel==0.15'],
  ['sel==3:15', 'sel==3:15'],
  ['Status==In Progress', 'Status==In Progress'],
  ['Answer==or', 'Answer==or'],
  ['Key==2024-0042', 'Key==2024-0042'],
  // quoted values hold reserved characters; backslash escapes anything
  ['sel=="hi there!"', 'sel==hi there!'],
  ["sel=='Pěkný den!'", 'sel==Pěkný den!'],
  [`sel=="Flynn's *"`, "sel==Flynn's *"],
  [`sel=="o)'O'(o"`, "sel==o)'O'(o"],
  ['sel=="6*7=42"', 'sel==6*7=42'],
  ["Title=='Salt and pepper'", 'Title==Salt and pepper'],
  [String.raw`sel=='10\' 15"'`, `sel==10' 15"`],
  [String.raw`sel=='10\' 15\"'`, `sel==10' 15"`],
  [String.raw`sel=='w\\ \'Flyn\n\''`, String.raw`sel==w\ 'Flynn'`],
  [String.raw`sel=='\\(^_^)/'`, String.raw`sel==\(^_^)/`],
  [String.raw`sel=="10' 15\""`, `sel==10' 15"`],
  [String.raw`sel=="w\\ \"Flyn\n\""`, String.raw`sel==w\ "Flynn"`],
  // value lists
  ['sel=in=(chunky,bacon,"ftw!")', 'sel=in=chunky|bacon|ftw!'],
  [`sel=in=('hi!',"how're you?")`, "sel=in=hi!|how're you?"],
  ['sel=in=(meh)', 'sel=in=meh'],
  ['sel=in=(")o(")', 'sel=in=)o('],
  ['Priority=out=Low:Medium:High', 'Priority=out=Low|Medium|High'],
  ['Status=in=( Open , "In Progress" )', 'Status=in=Open|In Progress'],
  // precedence and parentheses
  ['s0==a0;s1==a1;s2==a2', 'and(s0==a0, s1==a1, s2==a2)'],
  ['s0==a0,s1=out=(a10,a11),s2==a2', 'or(s0==a0, s1=out=a10|a11, s2==a2)'],
  ['s0==a0,s1==a1;s2==a2,s3==a3', 'or(s0==a0, and(s1==a1, s2==a2), s3==a3)'],
  ['(s0==a0,s1==a1);s2==a2', 'and(or(s0==a0, s1==a1), s2==a2)'],
  ['(s0==a0,s1=out=(a10,a11));s2==a2,s3==a3', 'or(and(or(s0==a0, s1=out=a10|a11), s2==a2), s3==a3)'],
  ['((s0==a0,s1==a1);s2==a2,s3==a3);s4==a4', 'and(or(and(or(s0==a0, s1==a1), s2==a2), s3==a3), s4==a4)'],
  ['(s0==a0)', 's0==a0'],
  ['((s0==a0));s1==a1', 'and(s0==a0, s1==a1)'],
  [' Status == Open ; ( Region == EU , Region == US ) ', 'and(Status==Open, or(Region==EU, Region==US))'],
  [nested(RSQL_MAX_DEPTH), 's==a'],
  // =bt= splits after the first Z; bounds as a list or quoted
  [`Created on=bt=(${A},${B})`, `Created on=bt=${A}|${B}`],
  [`Created on=bt="${A}:${B}"`, `Created on=bt=${A}|${B}`],
  ['Created on=bt=2024-01-01T00:00:00Z:2024-01-01T23:59:59.999999Z', 'Created on=bt=2024-01-01T00:00:00Z|2024-01-01T23:59:59.999999Z'],
  [`Due Date=in=${A}:${B}`, `Due Date=in=${A}|${B}`],
  // date fields take dates: calendar dates, instants with a zone, =lk= patterns
  ['Due Date==2024-02-29', 'Due Date==2024-02-29'],
  ['Due Date=lt=2024-03-01T09:30:00+01:00', 'Due Date=lt=2024-03-01T09:30:00+01:00'],
  ['updatedAt=ge=2000-02-29T00:00Z', 'updatedAt=ge=2000-02-29T00:00Z'],
  ['Updated on=lk=2024-03*', 'Updated on=lk=2024-03*'],
  // not date fields: text and numbers compare as they are
  ['Estimate=gt=5', 'Estimate=gt=5'],
  ['Format=gt=garbage', 'Format=gt=garbage'],
  ['Candidate=lt=zeta', 'Candidate=lt=zeta'],
]

const RESERVED = ['"', "'", '(', ')', ';', ',', '=', '<', '>', '!', '~']

const INVALID: Array<[filter: string, position: number, reason: string]> = [
  // the reproductions of issue 7 §7
  ['Status===Open', 6, "unknown operator '===', expected one of == != =gt="],
  ['Status~==Open', 6, "unknown operator '~=='"],
  ['Status==Open<', 12, "reserved character '<' in an unquoted value; quote the value"],
  ['Status==Open and Priority==P1', 13, "plain-text 'and' is not an RSQL operator: use ';' for AND and ',' for OR"],
  ['Created on=bt=A:B:C', 14, '=bt= takes exactly two bounds, from:to, got 3'],
  ['Created on=gt=garbage', 14, "'garbage' is not a date, and 'Created on' is a date field: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS.SSSZ"],
  ['Created on=gt=2026-13-45T99:00:00.000Z', 14, "'2026-13-45T99:00:00.000Z' is not a date"],
  // operators
  ['Status~=Open', 6, "unknown operator '~='"],
  ['Status=EQ=Open', 6, "unknown operator '=EQ='"],
  ['Status=eq=Open', 6, "unknown operator '=eq='"],
  ['sel=val', 3, "unknown operator '='"],
  ['Estimate<5', 8, "unknown operator '<'"],
  ['Estimate>=5', 8, "unknown operator '>='"],
  ['Status!==Open', 6, "unknown operator '!=='"],
  ['Status', 6, "unexpected end of filter, expected an operator after 'Status'"],
  ['Status Open', 11, "expected an operator after 'Status Open'"],
  ['Status==(Open,Closed)', 6, 'operator == takes a single value, not a list'],
  // plain-text logic
  ['Status==Open or Status==Closed', 13, "plain-text 'or'"],
  ['Status==Open AND Priority==P1', 13, "plain-text 'AND'"],
  ['(Status==Open) and (Priority==P1)', 15, "plain-text 'and'"],
  ["Status=='Open' or Status==Closed", 15, "plain-text 'or'"],
  ['Title==Salt and pepper', 12, "plain-text 'and'"],
  // selectors
  ['==Open', 0, "expected a selector, found '='"],
  ['"Status"==Open', 0, `expected a selector, found '"'`],
  ["Sta'tus'==Open", 3, 'selectors cannot be quoted'],
  ['Status==Open;', 13, 'unexpected end of filter, expected a selector'],
  ['Status==Open,,Status==Closed', 13, "expected a selector, found ','"],
  // values
  ['Status==', 8, 'unexpected end of filter, expected a value'],
  ['Status==;Region==EU', 8, "expected a value, found ';'"],
  ["Status==''", 8, 'empty value'],
  ['Status==""', 8, 'empty value'],
  ['Status=in=()', 11, "expected a value, found ')'"],
  ['Status=in=(a,)', 13, "expected a value, found ')'"],
  ['Status=in=a::b', 12, 'empty value in a colon-separated list'],
  ['Title==Fix (legacy) login', 11, "reserved character '(' in an unquoted value"],
  ['Url==a=b', 6, "reserved character '='"],
  ['Title==Hello!', 12, "reserved character '!'"],
  ["Title=='unterminated", 7, "unterminated quoted value, expected a closing '"],
  ["Status=='Open' x", 15, "unexpected 'x', expected ';' (AND), ',' (OR) or the end of the filter"],
  ['Status=in=(Open;Closed)', 15, "unexpected ';', expected ',' or ')' to close the value list at position 10"],
  ['Status=in=(Open,Closed', 22, "unexpected end of filter, expected ',' or ')' to close the value list at position 10"],
  // parentheses
  ['(s0==a0;s1!=a1', 14, "unexpected end of filter, expected ';', ',' or ')' to close the '(' at position 0"],
  ['s0==a0)', 6, "unbalanced ')': there is no '(' to close"],
  ['s0==a;(s1=in=(b,c),s2!=d', 24, "expected ';', ',' or ')' to close the '(' at position 6"],
  ['()', 1, "expected a selector, found ')'"],
  ['(', 1, 'unexpected end of filter, expected a selector'],
  ['', 0, 'empty filter'],
  ['   ', 3, 'empty filter'],
  [nested(RSQL_MAX_DEPTH + 1), RSQL_MAX_DEPTH, `parentheses nested more than ${RSQL_MAX_DEPTH} levels deep`],
  // =bt= takes exactly two ISO-8601 instants
  [`Due Date=bt=${A}`, 12, '=bt= takes exactly two bounds, from:to, got 1'],
  [`Due Date=bt=(${A},${B},${B})`, 13, '=bt= takes exactly two bounds, from:to, got 3'],
  [`Due Date=bt=${A}:${B}:${B}`, 12, 'got 3'],
  ['Created on=bt=A:B', 14, "'A' is not an ISO-8601 instant: =bt= bounds are YYYY-MM-DDTHH:MM:SS.SSSZ"],
  [`Created on=bt=${A}:B`, 39, "'B' is not an ISO-8601 instant"],
  [`Created on=bt=2024-02-30T00:00:00.000Z:${B}`, 14, "'2024-02-30T00:00:00.000Z' is not an ISO-8601 instant"],
  ['Created on=bt=2024-01-01:2024-02-01', 14, "'2024-01-01' is not an ISO-8601 instant"],
  ['Due Date=bt=2024-03-01T00:00:00+01:00:2024-03-02T00:00:00+01:00', 12, "'2024-03-01T00:00:00+01:00' is not an ISO-8601 instant"],
  [`Estimate=nbt=1:5`, 13, "'1' is not an ISO-8601 instant: =nbt= bounds"],
  // a date field takes dates; a date-shaped value is a real date on any field
  ['Due Date==tomorrow', 10, "'tomorrow' is not a date, and 'Due Date' is a date field"],
  ['Updated on=ge=2023-02-29', 14, "'2023-02-29' is not a date"],
  ['Due Date=in=(2024-03-01,soon)', 24, "'soon' is not a date"],
  ['updatedAt=lt=yesterday', 13, "'updatedAt' is a date field"],
  ['due_at=gt=2024-1-1', 10, "'due_at' is a date field"],
  ['Created on==2024-03-01T25:00:00Z', 12, 'is not a date'],
  ['Estimate=gt=2026-13-45', 12, "'2026-13-45' is not a valid date: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS.SSSZ"],
  ['Priority=le=2024-02-30T00:00:00.000Z', 12, 'is not a valid date'],
]

function syntaxError(filter: string, options?: RsqlOptions): RsqlSyntaxError {
  try {
    parseRsql(filter, options)
  } catch (err) {
    if (err instanceof RsqlSyntaxError) return err
    throw err
  }
  throw new Error(`accepted ${JSON.stringify(filter)}`)
}

describe('parseRsql', () => {
  it.each(VALID)('parses %s', (filter, tree) => {
    expect(show(parseRsql(filter))).toBe(tree)
  })

  it.each(INVALID)('refuses %j at position %i', (filter, position, reason) => {
    const err = syntaxError(filter)
    expect(err.position).toBe(position)
    expect(err.message).toContain(`Invalid filter at position ${position}: `)
    expect(err.reason).toContain(reason)
  })

  it.each(RESERVED.flatMap((c) => [`ill${c}`, `ill${c}ness`]))('refuses the reserved character in the selector %j', (selector) => {
    expect(syntaxError(`${selector}==val`).position).toBe(3)
  })

  it.each(RESERVED.flatMap((c) => [`ill${c}`, `ill${c}ness`]))('refuses the reserved character in the unquoted value %j', (value) => {
    const filter = `sel==${value}`
    // `;` and `,` end the value: what follows is then an incomplete comparison, refused at the end.
    expect(syntaxError(filter).position).toBe(value[3] === ';' || value[3] === ',' ? filter.length : 8)
  })

  it('throws a typed SyncError with code rsql_syntax', () => {
    const err = syntaxError('Status===Open')
    expect(err).toBeInstanceOf(SyncError)
    expect(err).toMatchObject({ name: 'RsqlSyntaxError', code: 'rsql_syntax', retryable: false, position: 6 })
  })

  it('refuses 10 000 nested parentheses with an error, not a stack overflow', () => {
    for (const filter of [nested(10_000), '('.repeat(10_000), `s==a;${'('.repeat(10_000)}`]) {
      expect(syntaxError(filter).reason).toBe(`parentheses nested more than ${RSQL_MAX_DEPTH} levels deep`)
    }
  })

  it('takes a lower nesting limit from the caller', () => {
    expect(show(parseRsql(nested(2), { maxDepth: 2 }))).toBe('s==a')
    expect(syntaxError(nested(3), { maxDepth: 2 })).toMatchObject({ position: 2, reason: 'parentheses nested more than 2 levels deep' })
  })

  it('treats the selectors the caller names as date fields', () => {
    expect(show(parseRsql('Resolved=gt=never'))).toBe('Resolved=gt=never')
    expect(syntaxError('Resolved=gt=never', { dateFields: ['Resolved'] })).toMatchObject({
      position: 12,
      reason: expect.stringContaining("'Resolved' is a date field"),
    })
    expect(show(parseRsql('Resolved=gt=2024-03-01', { dateFields: ['Resolved'] }))).toBe('Resolved=gt=2024-03-01')
  })
})

describe('compileRsql', () => {
  const rows = [
    { id: '1', Status: 'Open', 'Updated on': A },
    { id: '2', Status: 'In Progress', 'Updated on': B },
    { id: '3', Status: 'Closed' },
  ]
  const match = (filter: string) => rows.filter(compileRsql(filter)).map((r) => r.id)

  it('keeps both date bounds inclusive and leaves a record without the field out', () => {
    expect(match(`Updated on=bt=${A}:${B}`)).toEqual(['1', '2'])
    expect(match(`Updated on=nbt=${A}:${A}`)).toEqual(['2', '3'])
  })

  it('binds ; tighter than , and compares instants as time', () => {
    expect(match('Status==Closed,Status==Open;Updated on=gt=2024-01-01T01:00:00+02:00')).toEqual(['1', '3'])
  })
})
