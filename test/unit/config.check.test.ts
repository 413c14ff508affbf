import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { runCheck, type TestConnections } from '../../src/cli/check.js'
import { dispatch } from '../../src/cli/dispatch.js'
import { CONNECTIONS, ENV, MAPPING, connectionsWithElean, writeConfigDir } from './config.helpers.js'

function capture() {
  const text = { stdout: '', stderr: '' }
  return {
    text,
    out: {
      stdout: { write: (s: string) => (text.stdout += s) },
      stderr: { write: (s: string) => (text.stderr += s) },
    },
  }
}

async function check(files: Record<string, string>, env: Record<string, string> = ENV, testConnections?: TestConnections) {
  const configDir = await writeConfigDir(files)
  const { text, out } = capture()
  const code = await runCheck({ configDir, env, out, ...(testConnections && { testConnections }) })
  return { code, ...text }
}

const headers = (n: number) => `    headers:\n${Array.from({ length: n }, (_, i) => `      X-H${i}: v\n`).join('')}`

describe('elsync check', () => {
  it('prints a summary and exits 0 for a valid config', async () => {
    const result = await check({ 'connections.yaml': CONNECTIONS, 'it-requests.mapping.yaml': MAPPING })
    expect(result).toEqual({ code: 0, stdout: 'config ok: 2 connections, 1 mapping\n', stderr: '' })
  })

  it.each([
    [
      'an unknown connection in a mapping',
      { 'it-requests.mapping.yaml': MAPPING.replace('connection: elean', 'connection: jira') },
      'it-requests.mapping.yaml: right.connection: unknown connection "jira"',
    ],
    [
      'an http:// baseUrl on a public host',
      { 'connections.yaml': CONNECTIONS.replace('https://api.elean.app/v1/public', 'http://example.com') },
      'connections.yaml: connections.elean.baseUrl: must use https://',
    ],
    [
      'a custom header named Host',
      { 'connections.yaml': connectionsWithElean('    headers: { Host: evil.example.com }\n') },
      'connections.yaml: connections.elean.headers.Host: header "Host" is a forbidden header name',
    ],
    [
      '21 custom headers',
      { 'connections.yaml': connectionsWithElean(headers(21)) },
      'connections.yaml: connections.elean.headers: at most 20 custom headers are allowed, got 21',
    ],
    ['a YAML syntax error', { 'it-requests.mapping.yaml': 'id: x\nfields: [\n' }, 'it-requests.mapping.yaml: line 3:1: YAML syntax error'],
    [
      'a missing ${ENV} secret',
      { 'connections.yaml': CONNECTIONS.replace('${ELEAN_API_KEY}', '${ELEAN_KEY_MISSING}') },
      'connections.yaml: connections.elean.auth.token: environment variable ELEAN_KEY_MISSING is not set',
    ],
    [
      'a mapping writing fields to an avepoint stream (no record writer)',
      {
        'connections.yaml': `${CONNECTIONS}  graph:\n    kind: avepoint\n    baseUrl: https://graph.avepointonlineservices.com\n    auth: { mode: bearer, token: t0ken-value }\n    streams:\n      users: { resource: users }\n`,
        'it-requests.mapping.yaml': MAPPING.replace('{ connection: elean, stream: web }', '{ connection: graph, stream: users }').replace(
          /^(comments|attachments): both\n/gm,
          '',
        ),
      },
      'it-requests.mapping.yaml: right.connection: connection "graph" is kind avepoint, which is read-only (records are written to elementum, elean)',
    ],
  ])('exits 2 naming file and path for %s', async (_, files, line) => {
    const result = await check({ 'connections.yaml': CONNECTIONS, 'it-requests.mapping.yaml': MAPPING, ...files })
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr.split('\n')[0]).toContain(line)
    expect(result.stderr).toMatch(/config invalid: \d+ errors? in /)
  })

  it('reports invalid environment variables together with config errors', async () => {
    const result = await check({ 'connections.yaml': CONNECTIONS.replace('kind: elean', 'kind: jira') }, { ...ENV, ELSYNC_ADMIN_PORT: 'eighty' })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('environment: ELSYNC_ADMIN_PORT: must be a TCP port number')
    expect(result.stderr).toContain('connections.yaml: connections.elean.kind: expected elementum')
    expect(result.stderr).toContain('config invalid: 2 errors')
  })

  it('exits 1 and names the connection when a connection test fails', async () => {
    const tests: TestConnections = async (config) =>
      Object.keys(config.connections).map((connection) => (connection === 'elean' ? { connection, ok: false, message: 'HTTP 401' } : { connection, ok: true }))
    const result = await check({ 'connections.yaml': CONNECTIONS }, ENV, tests)
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('config ok: 2 connections, 0 mappings\nok elementum\n')
    expect(result.stderr).toBe('failed elean: HTTP 401\n')
  })

  it('exits 2 when the config directory does not exist', async () => {
    const { text, out } = capture()
    const code = await runCheck({ configDir: '/nonexistent/elsync-config', env: {}, out })
    expect(code).toBe(2)
    expect(text.stderr).toContain('/nonexistent/elsync-config: (directory): config directory not found')
  })

  it('exits 2 from the command line, reading ELSYNC_CONFIG_DIR', async () => {
    const dir = await writeConfigDir({ 'connections.yaml': CONNECTIONS.replace('https://api.elean.app/v1/public', 'http://example.com') })
    const cli = resolve(import.meta.dirname, '../../src/cli/index.ts')
    const tsx = resolve(import.meta.dirname, '../../node_modules/.bin/tsx')
    const env = { PATH: process.env['PATH'] ?? '', ...ENV, ELSYNC_CONFIG_DIR: dir }
    const failure = await promisify(execFile)(tsx, [cli, 'check'], { env }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    )
    expect(failure.code).toBe(2)
    expect(failure.stderr).toContain(
      'connections.yaml: connections.elean.baseUrl: must use https:// (plain http:// is allowed only for loopback hosts), got http://example.com',
    )
  }, 30_000)

  it('validates the shipped example mappings/ directory', async () => {
    const { text, out } = capture()
    const env = {
      ...ENV,
      ELEMENTUM_BASE_URL: 'http://127.0.0.1:4001/v1',
      ELEAN_BASE_URL: 'http://127.0.0.1:4002/v1/public',
      AVEPOINT_BASE_URL: 'http://127.0.0.1:4003',
      AVEPOINT_TOKEN_URL: 'http://127.0.0.1:4003/connect/token',
      AVEPOINT_CLIENT_ID: 'client',
      AVEPOINT_CLIENT_SECRET: 'avepoint-secret',
      ELASTICIO_BASE_URL: 'http://127.0.0.1:4004/v2',
      ELASTICIO_EMAIL: 'me@example.com',
      ELASTICIO_API_KEY: 'elasticio-key',
      ELASTICIO_WORKSPACE_ID: 'ws1',
    }
    const code = await runCheck({ configDir: resolve(import.meta.dirname, '../../mappings'), env, out })
    expect(text.stderr).toBe('')
    expect(code).toBe(0)
  })
})

describe('elsync command dispatch', () => {
  it('prints usage and exits 2 for an unknown command', async () => {
    const { text, out } = capture()
    expect(await dispatch(['frobnicate'], out)).toBe(2)
    expect(text.stderr).toMatch(/^elsync: unknown command "frobnicate"\nusage: elsync <command>/)
  })

  it('prints usage and exits 2 without a command, 0 with --help', async () => {
    const none = capture()
    expect(await dispatch([], none.out)).toBe(2)
    expect(none.text.stderr).toContain('usage: elsync <command>')
    const help = capture()
    expect(await dispatch(['--help'], help.out)).toBe(0)
    expect(help.text.stdout).toContain('check')
  })
})
