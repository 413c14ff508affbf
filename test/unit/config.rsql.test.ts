import { describe, expect, it } from 'vitest'
import { runCheck } from '../../src/cli/check.js'
import { CONNECTIONS, ENV, MAPPING, writeConfigDir } from './config.helpers.js'

// A stream or mapping filter that is not valid RSQL stops `elsync check` (and every command
// that loads the config) with exit 2, naming the file, the path and the position.

const STREAM = '      it-requests: { recordType: tasks, alias: it-requests }\n'
const streamWith = (props: string) => CONNECTIONS.replace(STREAM, `      it-requests: { recordType: tasks, alias: it-requests, ${props} }\n`)
const withStreamFilter = (filter: string) => streamWith(`filter: ${JSON.stringify(filter)}`)
const withMappingFilter = (filter: string) => MAPPING.replace('filter: "Status!=Cancelled"', `filter: ${JSON.stringify(filter)}`)

async function check(files: Record<string, string>) {
  const configDir = await writeConfigDir({ 'connections.yaml': CONNECTIONS, 'it-requests.mapping.yaml': MAPPING, ...files })
  const text = { stdout: '', stderr: '' }
  const out = { stdout: { write: (s: string) => (text.stdout += s) }, stderr: { write: (s: string) => (text.stderr += s) } }
  const code = await runCheck({ configDir, env: ENV, out })
  return { code, ...text, lines: text.stderr.split('\n') }
}

const STREAM_PATH = 'connections.yaml: connections.elementum.streams.it-requests.filter: not a valid RSQL filter'
const MAPPING_PATH = 'it-requests.mapping.yaml: left.filter: not a valid RSQL filter'

/** The reproductions of issue 7 §7, each with where it is refused. */
const MALFORMED: Array<[filter: string, where: string]> = [
  ['Status===Open', `position 6 (at "===Open"): unknown operator '==='`],
  ['Status~==Open', `position 6 (at "~==Open"): unknown operator '~=='`],
  ['Status==Open<', `position 12 (at "<"): reserved character '<' in an unquoted value`],
  ['Status==Open and Priority==P1', `position 13 (at "and Priority==P1"): plain-text 'and' is not an RSQL operator`],
  ['Created on=bt=A:B:C', 'position 14 (at "A:B:C"): =bt= takes exactly two bounds, from:to, got 3'],
  ['Created on=gt=garbage', `position 14 (at "garbage"): 'garbage' is not a date, and 'Created on' is a date field`],
  ['Created on=gt=2026-13-45T99:00:00.000Z', `position 14 (at "2026-13-45T99:00:00.000Z"): '2026-13-45T99:00:00.000Z' is not a date`],
  ['Status==', 'position 8 (at the end): unexpected end of filter, expected a value'],
]

describe('RSQL filters at config load', () => {
  it.each(MALFORMED)('exits 2 for the stream filter %j, naming file, path and position', async (filter, where) => {
    const result = await check({ 'connections.yaml': withStreamFilter(filter) })
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.lines[0]).toContain(`${STREAM_PATH}: ${where}`)
    expect(result.stderr).toMatch(/config invalid: 1 error in /)
  })

  it.each(MALFORMED)('exits 2 for the mapping filter %j, naming file, path and position', async (filter, where) => {
    const result = await check({ 'it-requests.mapping.yaml': withMappingFilter(filter) })
    expect(result.code).toBe(2)
    expect(result.lines[0]).toContain(`${MAPPING_PATH}: ${where}`)
  })

  it('refuses 10 000 nested parentheses with exit 2 instead of crashing', async () => {
    const filter = `${'('.repeat(10_000)}Status==Open${')'.repeat(10_000)}`
    const result = await check({ 'connections.yaml': withStreamFilter(filter), 'it-requests.mapping.yaml': withMappingFilter(filter) })
    expect(result.code).toBe(2)
    expect(result.lines[0]).toContain(`${STREAM_PATH}: position 63 (at "((((((((((((((((((((((((…"): parentheses nested more than 63 levels deep`)
    expect(result.lines[1]).toContain(`${MAPPING_PATH}: position 64 (at "((((((((((((((((((((((((…"): parentheses nested more than 64 levels deep`)
  })

  it('keeps one level of nesting for the window the Elementum connector adds around a stream filter', async () => {
    const nested = (depth: number) => `${'('.repeat(depth)}Status==Open${')'.repeat(depth)}`
    expect((await check({ 'connections.yaml': withStreamFilter(nested(63)) })).code).toBe(0)
    const deep = await check({ 'connections.yaml': withStreamFilter(nested(64)) })
    expect(deep.lines[0]).toContain(`${STREAM_PATH}: position 63 (at "(Status==Open)))))))))))…"): parentheses nested more than 63 levels deep`)
    expect((await check({ 'it-requests.mapping.yaml': withMappingFilter(nested(64)) })).code).toBe(0)
  })

  it("treats an Elementum stream's cursorField as a date field of its filter", async () => {
    const custom = await check({ 'connections.yaml': streamWith('cursorField: Last Modified, filter: "Last Modified=gt=yesterday"') })
    expect(custom.code).toBe(2)
    expect(custom.lines[0]).toContain(`${STREAM_PATH}: position 17 (at "yesterday"): 'yesterday' is not a date, and 'Last Modified' is a date field`)
    // with the default cursorField, `Last Modified` is an ordinary text field
    expect((await check({ 'connections.yaml': withStreamFilter('Last Modified=gt=yesterday') })).code).toBe(0)
  })

  it('accepts well-formed filters on streams and mappings', async () => {
    const result = await check({
      'connections.yaml': withStreamFilter('Updated on=ge=2024-01-01T00:00:00.000Z;(Status==Open,Status=="In Progress")'),
      'it-requests.mapping.yaml': withMappingFilter(`Priority=in=(P1,P2);Due Date=bt=2024-01-01T00:00:00.000Z:2024-12-31T23:59:59.999Z`),
    })
    expect(result).toMatchObject({ code: 0, stderr: '' })
  })
})
