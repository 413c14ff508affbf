import { describe, expect, it } from 'vitest'
import { ConfigError, type ConfigIssue } from '../../src/config/errors.js'
import { loadConfig } from '../../src/config/load.js'
import { explainCronError } from '../../src/config/schema.primitives.js'
import { CONNECTIONS, ENV, MAPPING, connectionsWithElean, writeConfigDir } from './config.helpers.js'

async function issuesOf(files: Record<string, string>, env: Record<string, string> = ENV): Promise<ConfigIssue[]> {
  const dir = await writeConfigDir(files)
  const err: unknown = await loadConfig({ dir, env }).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(ConfigError)
  return [...(err as ConfigError).issues]
}

describe('loadConfig', () => {
  it('loads a valid directory and fills in every documented default', async () => {
    const dir = await writeConfigDir({ 'connections.yaml': CONNECTIONS, 'it-requests.mapping.yaml': MAPPING })
    const config = await loadConfig({ dir, env: ENV })

    const elementum = config.connections['elementum']
    expect(elementum).toMatchObject({
      kind: 'elementum',
      timeoutMs: 60_000,
      lookbackSeconds: 120,
      massDeleteFraction: 0.1,
      auth: { mode: 'oauth2-client-credentials', clientId: 'elementum-client', clientSecret: ENV.ELEMENTUM_CLIENT_SECRET, clientAuth: 'basic' },
      streams: { 'it-requests': { recordType: 'tasks', alias: 'it-requests', cursorField: 'Updated on' } },
    })
    expect(config.connections['elean']).toMatchObject({ kind: 'elean', poll: '*/1 * * * *', auth: { mode: 'bearer', token: ENV.ELEAN_API_KEY } })

    expect(config.mappings).toHaveLength(1)
    const mapping = config.mappings[0]
    expect(mapping).toMatchObject({
      id: 'it-requests',
      create: 'both',
      conflict: 'newest',
      delete: 'ignore',
      comments: 'both',
      related: 'none',
      attachments: { direction: 'both', oversize: 'link' },
    })
    expect(mapping?.fields[0]).toEqual({ left: 'Title', right: 'title', direction: 'both' })
    expect(mapping?.fields[1]?.values).toEqual({ Open: 'To Do', 'In Progress': 'In Progress', Closed: 'Done' })
    expect(config.outbox).toEqual({ retentionDays: 30 })
  })

  it('takes the write ledger’s retention from connections.yaml, in whole days', async () => {
    const dir = await writeConfigDir({ 'connections.yaml': `${CONNECTIONS}outbox: { retentionDays: 7 }\n` })
    expect((await loadConfig({ dir, env: ENV })).outbox).toEqual({ retentionDays: 7 })
    const issues = await issuesOf({ 'connections.yaml': `${CONNECTIONS}outbox: { retentionDays: 0, keep: all }\n` })
    expect(issues.map((i) => `${i.path}: ${i.message}`)).toEqual(['outbox.retentionDays: must be ≥ 1, got 0', 'outbox.keep: unknown key "keep"'])
  })

  it('accepts a directory with connections and no mappings (mirror only)', async () => {
    const dir = await writeConfigDir({ 'connections.yaml': CONNECTIONS })
    const config = await loadConfig({ dir, env: ENV })
    expect(Object.keys(config.connections)).toEqual(['elementum', 'elean'])
    expect(config.mappings).toEqual([])
  })

  it('reads mapping files in name order and ignores other files', async () => {
    const second = MAPPING.replace('id: it-requests', 'id: b-second')
    const dir = await writeConfigDir({
      'connections.yaml': CONNECTIONS,
      'z.mapping.yaml': MAPPING,
      'a.mapping.yaml': second,
      'notes.yaml': 'not: a mapping',
    })
    const config = await loadConfig({ dir, env: ENV })
    expect(config.mappings.map((m) => m.id)).toEqual(['b-second', 'it-requests'])
  })

  it.each(['http://127.0.0.1:8080', 'http://localhost:3000/v1', 'http://[::1]:9000', 'http://127.3.2.1'])(
    'accepts plain http:// on the loopback host %s',
    async (url) => {
      const dir = await writeConfigDir({ 'connections.yaml': CONNECTIONS.replace('https://api.elean.app/v1/public', url) })
      const config = await loadConfig({ dir, env: ENV })
      expect(config.connections['elean']?.baseUrl).toBe(url)
    },
  )

  it('refuses plain http:// on a non-loopback host, saying what was expected', async () => {
    const issues = await issuesOf({ 'connections.yaml': CONNECTIONS.replace('https://api.elean.app/v1/public', 'http://example.com') })
    expect(issues).toEqual([
      {
        file: 'connections.yaml',
        path: 'connections.elean.baseUrl',
        message: 'must use https:// (plain http:// is allowed only for loopback hosts), got http://example.com',
      },
    ])
  })

  it('refuses an http:// tokenUrl on a non-loopback host and credentials inside a URL', async () => {
    const issues = await issuesOf({
      'connections.yaml': CONNECTIONS.replace('clientSecret:', 'tokenUrl: "http://idp.example.com/token", clientSecret:').replace(
        'https://api.elean.app/v1/public',
        'https://user:hunter2@api.elean.app/v1',
      ),
    })
    expect(issues.map((i) => i.path)).toEqual(['connections.elementum.auth.tokenUrl', 'connections.elean.baseUrl'])
    expect(issues[0]?.message).toContain('got http://idp.example.com/token')
    expect(issues[1]?.message).toMatch(/must not contain credentials/)
    expect(JSON.stringify(issues)).not.toContain('hunter2')
  })

  it.each(['Host', 'host', 'Sec-Fetch-Mode', 'Proxy-Foo', 'Access-Control-Allow-Origin', 'Authorization'])(
    'refuses the forbidden custom header %s',
    async (name) => {
      const issues = await issuesOf({ 'connections.yaml': connectionsWithElean(`    headers: { ${name}: x }\n`) })
      expect(issues).toHaveLength(1)
      expect(issues[0]).toMatchObject({ file: 'connections.yaml', path: `connections.elean.headers.${name}` })
      expect(issues[0]?.message).toContain(name)
    },
  )

  it('accepts 20 custom headers and refuses 21', async () => {
    const headers = (n: number) => `    headers:\n${Array.from({ length: n }, (_, i) => `      X-Custom-${i}: value-${i}\n`).join('')}`
    const dir = await writeConfigDir({ 'connections.yaml': connectionsWithElean(headers(20)) })
    expect(Object.keys((await loadConfig({ dir, env: ENV })).connections['elean']?.headers ?? {})).toHaveLength(20)

    const issues = await issuesOf({ 'connections.yaml': connectionsWithElean(headers(21)) })
    expect(issues).toEqual([{ file: 'connections.yaml', path: 'connections.elean.headers', message: 'at most 20 custom headers are allowed, got 21' }])
  })

  it('reports a YAML syntax error with its file, line and column', async () => {
    const issues = await issuesOf({
      'connections.yaml': CONNECTIONS,
      'broken.mapping.yaml': 'id: broken\nleft: { connection: elean\nright: x\n',
    })
    expect(issues.length).toBeGreaterThan(0)
    expect(issues[0]?.file).toBe('broken.mapping.yaml')
    expect(issues[0]?.path).toMatch(/^line \d+:\d+$/)
    expect(issues[0]?.message).toMatch(/^YAML syntax error: /)
  })

  it('rejects an unknown key, naming it', async () => {
    const issues = await issuesOf({ 'connections.yaml': connectionsWithElean('    pollInterval: 5\n') })
    expect(issues).toEqual([{ file: 'connections.yaml', path: 'connections.elean.pollInterval', message: 'unknown key "pollInterval"' }])
  })

  it('names the accepted kinds when the kind is unknown', async () => {
    const issues = await issuesOf({ 'connections.yaml': CONNECTIONS.replace('kind: elean', 'kind: jira') })
    expect(issues).toEqual([
      { file: 'connections.yaml', path: 'connections.elean.kind', message: 'expected elementum | elean | avepoint | elasticio | rest, got "jira"' },
    ])
  })

  it('refuses a poll schedule that node-cron cannot run', async () => {
    const issues = await issuesOf({ 'connections.yaml': CONNECTIONS.replace('"*/1 * * * *"', '"61 * * * *"') })
    expect(issues).toHaveLength(1)
    expect(issues[0]).toMatchObject({ path: 'connections.elementum.poll' })
    expect(issues[0]?.message).toBe('must be a cron expression such as "*/1 * * * *": "61" is not a valid minute (0-59)')
  })

  it('explains a refused cron expression in plain words', () => {
    expect(explainCronError('* * *')).toBe('it has 3 fields, expected 5 (minute hour day-of-month month day-of-week) or 6 (a seconds field first)')
    expect(explainCronError('0 0 * * 9')).toBe('"9" is not a valid day of week (0-7 or sun-sat)')
    expect(explainCronError('')).toBe('it is empty')
    for (const bad of ['61 * * * *', '*/x * * * *', '* * 32 * *', '* * * 13 *', '@daily', 'hello']) expect(explainCronError(bad)).not.toMatch(/a invalid/)
  })

  it('requires tokenUrl for oauth2 client credentials on a kind that implies none', async () => {
    const rest = `
  api:
    kind: rest
    baseUrl: https://api.example.com
    auth: { mode: oauth2-client-credentials, clientId: c, clientSecret: s3cret-value }
    streams:
      things: { path: /things, pagination: { style: page } }
`
    const issues = await issuesOf({ 'connections.yaml': CONNECTIONS + rest })
    expect(issues).toEqual([
      {
        file: 'connections.yaml',
        path: 'connections.api.auth.tokenUrl',
        message: 'is required for kind rest (only elementum and avepoint imply a token endpoint)',
      },
    ])
  })

  it('fills in pagination defaults of a generic REST stream', async () => {
    const rest = `
  api:
    kind: rest
    baseUrl: https://api.example.com
    auth: { mode: api-key, in: query, name: key, value: k3y-value }
    streams:
      things: { path: /things, itemsPath: data.items, pagination: { style: cursor } }
`
    const dir = await writeConfigDir({ 'connections.yaml': CONNECTIONS + rest })
    const config = await loadConfig({ dir, env: ENV })
    expect(config.connections['api']?.streams['things']).toEqual({
      path: '/things',
      itemsPath: 'data.items',
      idField: 'id',
      pagination: { style: 'cursor', cursorParam: 'cursor', cursorPath: 'nextCursor', sizeParam: 'limit', pageSize: 100 },
    })
  })

  it('refuses a mapping naming an unknown connection or stream', async () => {
    const issues = await issuesOf({
      'connections.yaml': CONNECTIONS,
      'it-requests.mapping.yaml': MAPPING.replace('connection: elean', 'connection: jira').replace('stream: it-requests', 'stream: nope'),
    })
    expect(issues).toEqual([
      {
        file: 'it-requests.mapping.yaml',
        path: 'left.stream',
        message: 'unknown stream "nope" on connection "elementum"; it defines it-requests',
      },
      {
        file: 'it-requests.mapping.yaml',
        path: 'right.connection',
        message: 'unknown connection "jira"; connections.yaml defines elementum, elean',
      },
    ])
  })

  it('refuses delete: propagate where a side cannot delete records (Elementum has no delete), naming file and path', async () => {
    const issues = await issuesOf({ 'connections.yaml': CONNECTIONS, 'it-requests.mapping.yaml': `${MAPPING}delete: propagate\n` })
    expect(issues).toEqual([
      {
        file: 'it-requests.mapping.yaml',
        path: 'delete',
        message:
          'propagate deletes records on the left side, but connection "elementum" is kind elementum, whose API cannot delete records (kinds that can: elean); use unlink or ignore',
      },
    ])
    for (const policy of ['unlink', 'ignore']) {
      const dir = await writeConfigDir({ 'connections.yaml': CONNECTIONS, 'it-requests.mapping.yaml': `${MAPPING}delete: ${policy}\n` })
      await expect(loadConfig({ dir, env: ENV })).resolves.toBeDefined()
    }
  })

  it('refuses related items on an Elean side as a missing capability', async () => {
    const issues = await issuesOf({ 'connections.yaml': CONNECTIONS, 'it-requests.mapping.yaml': `${MAPPING}related: both\n` })
    expect(issues).toEqual([
      {
        file: 'it-requests.mapping.yaml',
        path: 'related',
        message: 'related items are not supported by the right side: connection "elean" is kind elean (supported by elementum)',
      },
    ])
  })

  it('refuses watchers on an Elean side, and accepts them between two elementum streams', async () => {
    const issues = await issuesOf({ 'connections.yaml': CONNECTIONS, 'it-requests.mapping.yaml': `${MAPPING}watchers: right-to-left\n` })
    expect(issues).toEqual([
      {
        file: 'it-requests.mapping.yaml',
        path: 'watchers',
        message: 'watchers cannot be copied from the right side: connection "elean" is kind elean (supported by elementum)',
      },
    ])
    const twoAliases = CONNECTIONS.replace('it-requests: {', 'ops: { recordType: tasks, alias: ops }\n      it-requests: {')
    const mapping = `id: m\nleft: { connection: elementum, stream: it-requests }\nright: { connection: elementum, stream: ops }\nfields:\n  - { left: Title, right: Title }\nrelated: both\nwatchers: both\n`
    const dir = await writeConfigDir({ 'connections.yaml': twoAliases, 'm.mapping.yaml': mapping })
    const config = await loadConfig({ dir, env: ENV })
    expect(config.mappings[0]).toMatchObject({ related: 'both', watchers: 'both' })
  })

  const graph = `
  graph:
    kind: avepoint
    baseUrl: https://graph.avepointonlineservices.com
    auth: { mode: oauth2-client-credentials, clientId: c, clientSecret: s3cret-value, scope: x }
    streams:
      users: { resource: users }
`

  it('refuses comments, attachments and record writes on an avepoint side', async () => {
    const issues = await issuesOf({
      'connections.yaml': CONNECTIONS + graph,
      'it-requests.mapping.yaml': MAPPING.replace('{ connection: elean, stream: web }', '{ connection: graph, stream: users }'),
    })
    expect(issues.map((i) => i.path)).toEqual(['comments', 'attachments.direction', 'right.connection'])
  })

  const eleanToGraph = (extra = '') =>
    `id: m\nleft: { connection: elean, stream: web }\nright: { connection: graph, stream: users }\nfields:\n  - { left: title, right: displayName${extra} }\n`

  it('refuses a mapping that writes fields to an avepoint stream, naming the kinds that write records', async () => {
    const issues = await issuesOf({ 'connections.yaml': CONNECTIONS + graph, 'm.mapping.yaml': eleanToGraph() })
    expect(issues).toEqual([
      {
        file: 'm.mapping.yaml',
        path: 'right.connection',
        message:
          'connection "graph" is kind avepoint, which is read-only (records are written to elementum, elean), but this mapping writes to its side (check create, delete and the direction of fields)',
      },
    ])
    // reading from it is fine
    const dir = await writeConfigDir({ 'connections.yaml': CONNECTIONS + graph, 'm.mapping.yaml': eleanToGraph(', direction: right-to-left') })
    await expect(loadConfig({ dir, env: ENV })).resolves.toBeDefined()
  })

  it('names the side a one-way flow of comments or related items cannot use', async () => {
    const fromGraph = `${eleanToGraph(', direction: right-to-left')}comments: right-to-left\n`
    expect(await issuesOf({ 'connections.yaml': CONNECTIONS + graph, 'm.mapping.yaml': fromGraph })).toEqual([
      {
        file: 'm.mapping.yaml',
        path: 'comments',
        message: 'comments cannot be copied from the right side: connection "graph" is kind avepoint (supported by elementum, elean)',
      },
    ])
    const intoElean = `${MAPPING}related: left-to-right\n`
    expect(await issuesOf({ 'connections.yaml': CONNECTIONS, 'it-requests.mapping.yaml': intoElean })).toEqual([
      {
        file: 'it-requests.mapping.yaml',
        path: 'related',
        message: 'related items cannot be copied to the right side: connection "elean" is kind elean (supported by elementum)',
      },
    ])
  })

  it('refuses a mapping that writes to a read-only rest connection', async () => {
    const rest = `
  api:
    kind: rest
    baseUrl: https://api.example.com
    auth: { mode: none }
    streams:
      things: { path: /things, pagination: { style: none } }
`
    const mapping = `id: m\nleft: { connection: elementum, stream: it-requests }\nright: { connection: api, stream: things }\nfields:\n  - { left: Title, right: name }\n`
    const issues = await issuesOf({ 'connections.yaml': CONNECTIONS + rest, 'm.mapping.yaml': mapping })
    expect(issues).toHaveLength(1)
    expect(issues[0]).toMatchObject({ file: 'm.mapping.yaml', path: 'right.connection' })
    expect(issues[0]?.message).toMatch(/read-only/)

    const dir = await writeConfigDir({
      'connections.yaml': CONNECTIONS + rest,
      'm.mapping.yaml': mapping.replace('right: name }', 'right: name, direction: right-to-left }'),
    })
    await expect(loadConfig({ dir, env: ENV })).resolves.toBeDefined()
  })

  it('refuses a value map that cannot be read backwards for a two-way field', async () => {
    const issues = await issuesOf({
      'connections.yaml': CONNECTIONS,
      'it-requests.mapping.yaml': MAPPING.replace('Closed: Done', 'Closed: Done, Resolved: Done'),
    })
    expect(issues).toHaveLength(1)
    expect(issues[0]).toMatchObject({ path: 'fields[1].values' })
    expect(issues[0]?.message).toContain('"Closed" and "Resolved" both map to "Done"')
  })

  it('takes a list of right values for one left value, each of which must map back to it alone', async () => {
    const many = MAPPING.replace('"In Progress": In Progress', '"In Progress": [In Progress, In Review]')
    expect(many).not.toBe(MAPPING)
    const ok = await loadConfig({ dir: await writeConfigDir({ 'connections.yaml': CONNECTIONS, 'it-requests.mapping.yaml': many }), env: ENV })
    expect(ok.mappings[0]?.fields[1]?.values).toEqual({ Open: 'To Do', 'In Progress': ['In Progress', 'In Review'], Closed: 'Done' })
    const twice = await issuesOf({ 'connections.yaml': CONNECTIONS, 'it-requests.mapping.yaml': many.replace('Closed: Done', 'Closed: [Done, In Review]') })
    expect(twice).toHaveLength(1)
    expect(twice[0]?.message).toContain('"In Progress" and "Closed" both map to "In Review"')
    const empty = await issuesOf({ 'connections.yaml': CONNECTIONS, 'it-requests.mapping.yaml': many.replace('Closed: Done', 'Closed: []') })
    expect(empty[0]).toMatchObject({ path: 'fields[1].values.Closed', message: expect.stringContaining('at least one') })
  })

  it('refuses duplicate mapping ids across files', async () => {
    const issues = await issuesOf({ 'connections.yaml': CONNECTIONS, 'a.mapping.yaml': MAPPING, 'b.mapping.yaml': MAPPING })
    expect(issues).toEqual([{ file: 'b.mapping.yaml', path: 'id', message: 'duplicate mapping id "it-requests" (also used in a.mapping.yaml)' }])
  })

  it('reports every error of every file at once', async () => {
    const issues = await issuesOf({
      'connections.yaml': connectionsWithElean('    headers: { Host: x }\n').replace('https://api.elementum.io/v1', 'http://example.com'),
      'a.mapping.yaml': MAPPING.replace('create: both', 'create: sometimes'),
      'b.mapping.yaml': MAPPING.replace('id: it-requests', 'id: b').replace('connection: elean', 'connection: jira'),
      'c.mapping.yaml': 'id: [oops\n',
    })
    expect(issues.map((i) => `${i.file}: ${i.path}`)).toEqual([
      'connections.yaml: connections.elementum.baseUrl',
      'connections.yaml: connections.elean.headers.Host',
      'a.mapping.yaml: create',
      'b.mapping.yaml: right.connection',
      'c.mapping.yaml: line 2:1',
    ])
  })

  it('names connections.yaml when it is missing', async () => {
    const issues = await issuesOf({ 'it-requests.mapping.yaml': MAPPING })
    expect(issues).toHaveLength(1)
    expect(issues[0]).toMatchObject({ file: 'connections.yaml', path: '(file)' })
    expect(issues[0]?.message).toMatch(/^not found in /)
  })

  it('formats the error message as one "<file>: <path>: <message>" line per issue', async () => {
    const dir = await writeConfigDir({ 'connections.yaml': CONNECTIONS.replace('kind: elean', 'kind: jira').replace('tasks', 'issues') })
    const err = await loadConfig({ dir, env: ENV }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).code).toBe('invalid_config')
    expect((err as ConfigError).message.split('\n')).toEqual([
      'connections.yaml: connections.elementum.streams.it-requests.recordType: expected apps | elements | tasks | transactions, got "issues"',
      'connections.yaml: connections.elean.kind: expected elementum | elean | avepoint | elasticio | rest, got "jira"',
    ])
  })
})
