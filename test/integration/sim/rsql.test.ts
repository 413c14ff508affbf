import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startElementum, type StartedElementum } from '../../../src/sim/elementum/index.js'

// RSQL filters evaluated by the Elementum simulator, exercised through HTTP search.

const FIXTURE: Array<Record<string, string>> = [
  // TSK-1
  {
    Title: 'Renew supplier contract',
    Status: 'Open',
    Priority: 'P1',
    'Due Date': '2024-03-01T09:30:00.000Z',
    Assignee: 'ada.lovelace@example.com',
    Estimate: '3',
    Region: 'EU',
    Note: "It's done",
  },
  // TSK-2
  {
    Title: 'Audit firewall rule',
    Status: 'In Progress',
    Priority: 'P2',
    'Due Date': '2024-03-01T17:45:30.500Z',
    Assignee: 'grace.hopper@example.com',
    Estimate: '10',
    Region: 'US',
  },
  // TSK-3 (no Assignee)
  { Title: 'Order 1234, urgent', Status: 'Closed', Priority: 'P3', 'Due Date': '2024-03-15T00:00:00.000Z', Estimate: '2.5', Region: 'EU' },
  // TSK-4
  {
    Title: 'order 12345',
    Status: 'Cancelled',
    Priority: 'P4',
    'Due Date': '2024-04-01T12:00:00.000Z',
    Assignee: 'alan.turing@example.com',
    Estimate: '100',
    Region: 'APAC',
  },
  // TSK-5
  {
    Title: 'Fix (legacy) login',
    Status: 'Open',
    Priority: 'P2',
    'Due Date': '2024-02-28T23:59:59.999Z',
    Assignee: 'ada.lovelace@example.com',
    Estimate: 'n/a',
    Region: 'US',
    Note: 'say "hi"',
  },
  // TSK-6 (no Due Date)
  { Title: 'Plan Q2', Status: 'In Progress', Priority: 'P1', Assignee: 'grace.hopper@example.com', Estimate: '7', Region: 'EU' },
]
const ALL = ['TSK-1', 'TSK-2', 'TSK-3', 'TSK-4', 'TSK-5', 'TSK-6']
const ids = (...n: number[]): string[] => n.map((i) => `TSK-${i}`)

const MATCHES: Array<[filter: string, expected: string[]]> = [
  ['Status==Open', ids(1, 5)],
  ['Status!=Open', ids(2, 3, 4, 6)],
  ['Status=="In Progress"', ids(2, 6)],
  ["Status=='In Progress'", ids(2, 6)],
  ['Status==In Progress', ids(2, 6)],
  // AND binds tighter than OR
  ['Status==Open,Priority==P2;Region==US', ids(1, 2, 5)],
  ['Status==Open;Priority==P2,Region==EU', ids(1, 3, 5, 6)],
  ['Status==Open;(Priority==P2,Region==EU)', ids(1, 5)],
  ['(Status==Open,Status==Closed);Region==EU', ids(1, 3)],
  ['((Priority==P1))', ids(1, 6)],
  [' Status == Open ; Region == EU ', ids(1)],
  // selectors with spaces, ISO instants compared as time
  ['Due Date=ge=2024-03-01T12:00:00.000Z', ids(2, 3, 4)],
  ['Due Date=lt=2024-03-01T09:30:00.000Z', ids(5)],
  ['Due Date=le=2024-03-01T09:30:00.000Z', ids(1, 5)],
  ['Due Date=gt=2024-03-01T09:30:00.000Z', ids(2, 3, 4)],
  ['Due Date==2024-03-15T00:00:00Z', ids(3)],
  ['Due Date==2024-03-15', ids(3)],
  // =bt= splits after the first Z; bounds are inclusive
  ['Due Date=bt=2024-03-01T09:30:00.000Z:2024-03-15T00:00:00.000Z', ids(1, 2, 3)],
  ['Due Date=bt=2024-03-01T10:00:00.000Z:2024-03-01T18:00:00.000Z', ids(2)],
  ['Due Date=bt="2024-03-01T09:30:00.000Z:2024-03-01T09:30:00.000Z"', ids(1)],
  ["Due Date=bt=('2024-03-01T00:00:00.000Z','2024-03-02T00:00:00.000Z')", ids(1, 2)],
  ['Due Date=nbt=2024-03-01T00:00:00.000Z:2024-03-31T23:59:59.999Z', ids(4, 5, 6)],
  ['Due Date!bt=2024-03-01T00:00:00.000Z:2024-03-31T23:59:59.999Z', ids(4, 5, 6)],
  ['Due Date=!bt=2024-03-01T00:00:00.000Z:2024-03-31T23:59:59.999Z', ids(4, 5, 6)],
  ['Due Date=bt=2024-03-01T00:00:00.000Z:2024-03-31T23:59:59.999Z;Status==Open', ids(1)],
  // numbers compare numerically; a non-numeric side falls back to string order ('n/a' > '5')
  ['Estimate=gt=5', ids(2, 4, 5, 6)],
  ['Estimate=lt=3', ids(3)],
  ['Estimate==2.50', ids(3)],
  // =in= / =out=
  ['Priority=in=(P1,P2)', ids(1, 2, 5, 6)],
  ['Priority=in=P3:P4', ids(3, 4)],
  ['Priority=out=(P1,P2)', ids(3, 4)],
  ['Status=in=(\'In Progress\',"Closed")', ids(2, 3, 6)],
  ['Assignee=out=(ada.lovelace@example.com)', ids(2, 3, 4, 6)],
  ['Due Date=in=(2024-03-15T00:00:00.000Z,2024-04-01T12:00:00.000Z)', ids(3, 4)],
  ['Due Date=in=2024-03-15T00:00:00.000Z:2024-04-01T12:00:00.000Z', ids(3, 4)],
  // =lk= is anchored, case-insensitive, * is a wildcard
  ['Title=lk=order*', ids(3, 4)],
  ['Title=lk=order 1234*', ids(3, 4)],
  ['Title=lk=order 1234', []],
  ['Title=lk=*LOGIN', ids(5)],
  ["Title=lk='*(legacy)*'", ids(5)],
  ["Title=lk='Order 1234, urgent'", ids(3)],
  ['Title=lk=*', ALL],
  // quoting and escapes
  ['Note=="It\'s done"', ids(1)],
  ["Note=='It\\'s done'", ids(1)],
  ['Note==\'say "hi"\'', ids(5)],
  ['Note=="say \\"hi\\""', ids(5)],
  ["Title=='Order 1234, urgent';Region==EU", ids(3)],
  // missing fields: comparisons are false, negations true
  ['Unknown==x', []],
  ['Unknown!=x', ALL],
  ['Assignee==ada.lovelace@example.com', ids(1, 5)],
  ['Assignee!=ada.lovelace@example.com', ids(2, 3, 4, 6)],
  ['Due Date=le=2099-01-01T00:00:00.000Z', ids(1, 2, 3, 4, 5)],
]

/** Each is refused with a 400 whose message names the position and what was expected. */
const INVALID: Array<[filter: string, position: number, reason: string]> = [
  ['Status', 6, "unexpected end of filter, expected an operator after 'Status'"],
  ['Status Open', 11, "unexpected end of filter, expected an operator after 'Status Open'"],
  ['Status==Open;', 13, 'unexpected end of filter, expected a selector'],
  ['==Open', 0, "expected a selector, found '='"],
  ['Status==Open,,Status==Closed', 13, "expected a selector, found ','"],
  ['Status=eq=Open', 6, "unknown operator '=eq=', expected one of == != =gt= =ge= =lt= =le= =bt= =nbt= !bt= =!bt= =in= =out= =lk="],
  ['Status==Open;Priority=in=(P1,P2', 31, "unexpected end of filter, expected ',' or ')' to close the value list at position 25"],
  ['(Status==Open', 13, "unexpected end of filter, expected ';', ',' or ')' to close the '(' at position 0"],
  ['Status==Open)', 12, "unbalanced ')': there is no '(' to close"],
  ["Title=='unterminated", 7, "unterminated quoted value, expected a closing '"],
  ["Status=='Open' x", 15, "unexpected 'x', expected ';' (AND), ',' (OR) or the end of the filter"],
  ['Status==', 8, 'unexpected end of filter, expected a value'],
  ['Status==;Region==EU', 8, "expected a value, found ';'"],
  ['Title==Fix (legacy) login', 11, `reserved character '(' in an unquoted value; quote the value ('...' or "...") to use it`],
  ['Status==(Open,Closed)', 6, 'operator == takes a single value, not a list'],
  ['Status=in=(Open;Closed)', 15, "unexpected ';', expected ',' or ')' to close the value list at position 10"],
  ['Due Date=bt=2024-03-01T00:00:00.000Z', 12, '=bt= takes exactly two bounds, from:to, got 1'],
  [
    'Due Date=bt=2024-03-01T00:00:00+01:00:2024-03-02T00:00:00+01:00',
    12,
    "'2024-03-01T00:00:00+01:00' is not an ISO-8601 instant: =bt= bounds are YYYY-MM-DDTHH:MM:SS.SSSZ",
  ],
  // issue 7 §7: each of these used to answer 200 with no items
  ['Status===Open', 6, "unknown operator '==='"],
  ['Status~==Open', 6, "unknown operator '~=='"],
  ['Status==Open<', 12, "reserved character '<' in an unquoted value"],
  ['Status==Open and Priority==P1', 13, "plain-text 'and' is not an RSQL operator: use ';' for AND and ',' for OR"],
  ['Created on=bt=A:B:C', 14, '=bt= takes exactly two bounds, from:to, got 3'],
  ['Created on=bt=A:B', 14, "'A' is not an ISO-8601 instant"],
  ['Created on=gt=garbage', 14, "'garbage' is not a date, and 'Created on' is a date field: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS.SSSZ"],
  ['Created on=gt=2026-13-45T99:00:00.000Z', 14, "'2026-13-45T99:00:00.000Z' is not a date"],
  ['Due Date==soon', 10, "'soon' is not a date, and 'Due Date' is a date field"],
  ["Status==''", 8, 'empty value, expected a value'],
]

let sim: StartedElementum
let auth: Record<string, string>

async function search(query: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${sim.baseUrl}/tasks/rsql?${query}`, { headers: auth })
  return { status: res.status, body: await res.json() }
}
const byFilter = (filter: string): Promise<{ status: number; body: any }> => search(new URLSearchParams({ filter, first: '1000' }).toString())
const idsOf = (body: any): string[] => body.items.map((i: { data: { id: string } }) => i.data.id)

beforeAll(async () => {
  sim = await startElementum({ port: 0 })
  for (const fields of FIXTURE) {
    const res = await fetch(`${sim.server.url}/_sim/records/tasks/rsql`, { method: 'POST', body: JSON.stringify({ fields }) })
    expect(res.status).toBe(201)
  }
  const token = await fetch(`${sim.server.url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${sim.credentials.clientId}:${sim.credentials.clientSecret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  })
  auth = { authorization: `Bearer ${((await token.json()) as { access_token: string }).access_token}` }
})
afterAll(() => sim.close())

describe('RSQL filter on search', () => {
  it.each(MATCHES)('%s matches %j', async (filter, expected) => {
    const { status, body } = await byFilter(filter)
    expect(status).toBe(200)
    expect(idsOf(body)).toEqual(expected)
    expect(body.total).toBe(expected.length)
  })

  it.each(INVALID)('rejects %s with a 400 naming position %i', async (filter, position, reason) => {
    const { status, body } = await byFilter(filter)
    expect(status).toBe(400)
    expect(body).toEqual({ status: 400, message: expect.stringMatching(/^Invalid filter at position \d+: /) })
    expect(body.message).toContain(`Invalid filter at position ${position}: ${reason}`)
  })

  // Sent unencoded: percent-encoded, 10 000 parentheses would pass Node's 16 KB header limit (431) before the parser.
  it.each([
    ['7 000 balanced', `${'('.repeat(7_000)}Status==Open${')'.repeat(7_000)}`],
    ['10 000 unclosed', `${'('.repeat(10_000)}Status==Open`],
  ])('answers %s nested parentheses with a 400, not a 500', async (_, filter) => {
    const { status, body } = await search(`filter=${filter}`)
    expect(status).toBe(400)
    expect(body.message).toBe('Invalid filter at position 64: parentheses nested more than 64 levels deep')
  })

  it('decodes percent-encoded ; , = as in the vendor docs', async () => {
    const { status, body } = await search('first=1000&filter=Status%3d%3dOpen%3bRegion%3d%3dEU%2cPriority%3d%3dP4')
    expect(status).toBe(200)
    expect(idsOf(body)).toEqual(ids(1, 4))
  })

  it('reads + in the query string as a space inside a value', async () => {
    const { body } = await search('filter=Status==In+Progress')
    expect(idsOf(body)).toEqual(ids(2, 6))
  })

  it('treats an empty filter as no filter', async () => {
    const { body } = await search('filter=')
    expect(idsOf(body)).toEqual(ALL)
  })

  it('pages through filtered results with a total of all matches', async () => {
    const first = await search(new URLSearchParams({ filter: 'Region==EU,Region==US', first: '2' }).toString())
    expect(idsOf(first.body)).toEqual(ids(1, 2))
    expect(first.body.total).toBe(5)
    expect(first.body.paging.has_next_page).toBe(true)
    const rest = await search(new URLSearchParams({ filter: 'Region==EU,Region==US', first: '10', after: first.body.paging.end_cursor }).toString())
    expect(idsOf(rest.body)).toEqual(ids(3, 5, 6))
    expect(rest.body.paging).toMatchObject({ has_next_page: false, has_previous_page: true })
  })
})
