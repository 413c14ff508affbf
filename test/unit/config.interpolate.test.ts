import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config/errors.js'
import { collectSecrets, interpolate } from '../../src/config/interpolate.js'
import { loadConfig } from '../../src/config/load.js'
import { redact } from '../../src/config/secrets.js'
import { CONNECTIONS, ENV, MAPPING, writeConfigDir } from './config.helpers.js'

const noFiles = (path: string): string => {
  throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' })
}

describe('interpolate', () => {
  it('substitutes ${NAME} anywhere in a string, in nested maps and lists', () => {
    const result = interpolate(
      { a: 'Bearer ${TOKEN}', list: ['${A}-${B}', 7, null], nested: { b: 'plain' } },
      { env: { TOKEN: 't0k', A: 'x', B: 'y' }, file: 'f.yaml', baseDir: '/cfg', readFile: noFiles },
    )
    expect(result.issues).toEqual([])
    expect(result.value).toEqual({ a: 'Bearer t0k', list: ['x-y', 7, null], nested: { b: 'plain' } })
    expect(result.substituted.map((s) => s.value)).toEqual(['t0k', 'x', 'y'])
  })

  it('reads ${file:...} relative to the config directory and trims trailing newlines', () => {
    const read = (path: string) => (path === '/cfg/secrets/key' ? 'sk-123\n\n' : noFiles(path))
    const result = interpolate({ key: '${file:secrets/key}' }, { env: {}, file: 'f.yaml', baseDir: '/cfg', readFile: read })
    expect(result.value).toEqual({ key: 'sk-123' })
  })

  it('keeps $${ as a literal ${ and a lone $ as is', () => {
    const result = interpolate({ a: 'cost $5, literal $${HOME}' }, { env: { HOME: '/root' }, file: 'f', baseDir: '/', readFile: noFiles })
    expect(result.value).toEqual({ a: 'cost $5, literal ${HOME}' })
    expect(result.issues).toEqual([])
  })

  it('reports a missing variable with file, path and name', () => {
    const result = interpolate(
      { connections: { elean: { auth: { token: '${ELEAN_API_KEY}' } } } },
      { env: {}, file: 'connections.yaml', baseDir: '/', readFile: noFiles },
    )
    expect(result.issues).toEqual([
      { file: 'connections.yaml', path: 'connections.elean.auth.token', message: 'environment variable ELEAN_API_KEY is not set' },
    ])
  })

  it('reports an unreadable file, a malformed reference and an unclosed one', () => {
    const result = interpolate(
      { fields: [{ a: '${file:/nope}' }, { b: '${not a name}' }, { c: 'x ${OPEN' }] },
      { env: {}, file: 'm.mapping.yaml', baseDir: '/', readFile: noFiles },
    )
    expect(result.issues.map((i) => i.path)).toEqual(['fields[0].a', 'fields[1].b', 'fields[2].c'])
    expect(result.issues[0]?.message).toBe('cannot read file /nope for ${file:/nope} (ENOENT)')
    expect(result.issues[1]?.message).toMatch(/^invalid reference \$\{not a name\}/)
    expect(result.issues[2]?.message).toMatch(/^unclosed "\$\{"/)
  })

  it('does not count interpolated URLs and client ids as secrets', () => {
    const result = interpolate(
      { baseUrl: '${URL}', auth: { clientId: '${ID}', clientSecret: '${SECRET}' } },
      { env: { URL: 'http://127.0.0.1:1', ID: 'client', SECRET: 'shh-123' }, file: 'f', baseDir: '/', readFile: noFiles },
    )
    expect(result.substituted.map((s) => s.value)).toEqual(['shh-123'])
  })
})

describe('secrets in a loaded config', () => {
  it('loads ${file:...} secrets from disk', async () => {
    const dir = await writeConfigDir({
      'connections.yaml': CONNECTIONS.replace('"${ELEAN_API_KEY}"', '"${file:elean.key}"'),
    })
    await writeFile(join(dir, 'elean.key'), 'el_from_a_file_0000\n')
    const config = await loadConfig({ dir, env: ENV })
    expect(config.connections['elean']?.auth).toEqual({ mode: 'bearer', token: 'el_from_a_file_0000' })
    expect(collectSecrets(config)).toContain('el_from_a_file_0000')
  })

  it('collects interpolated values and literal secret fields, not URLs or ids', async () => {
    const dir = await writeConfigDir({
      'connections.yaml': CONNECTIONS.replace('"${ELEAN_API_KEY}"', 'literal-token-value'),
      'it-requests.mapping.yaml': MAPPING,
    })
    const secrets = collectSecrets(await loadConfig({ dir, env: ENV }))
    expect(secrets.sort()).toEqual([ENV.ELEMENTUM_CLIENT_SECRET, 'literal-token-value'].sort())
  })

  it('reports a missing ${ENV} secret naming file, path and variable, and nothing else for that value', async () => {
    const dir = await writeConfigDir({ 'connections.yaml': CONNECTIONS })
    const { ELEAN_API_KEY: _, ...env } = ENV
    const err = await loadConfig({ dir, env }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).message).toBe('connections.yaml: connections.elean.auth.token: environment variable ELEAN_API_KEY is not set')
  })

  it('never shows a secret value in any error message', async () => {
    const secret = 'Sup3r-Secret-Value-42'
    const literal = 'literal-password-9x'
    const dir = await writeConfigDir({
      'connections.yaml': `${CONNECTIONS}
  elastic:
    kind: elasticio
    baseUrl: https://api.elastic.io/v2
    auth: { mode: basic, username: "me@example.com", password: ${literal} }
    timeoutMs: "\${SECRET}"
    streams:
      flows: { resource: "\${SECRET}" }
`,
      'it-requests.mapping.yaml': MAPPING.replace('create: both', 'create: "${SECRET}"')
        .replace('filter: "Status!=Cancelled"', `filter: "${literal}"`)
        .replace('conflict', 'conflict')
        .replace('comments: both', 'comments: "prefix ${SECRET}"'),
    })
    const err = await loadConfig({ dir, env: { ...ENV, SECRET: secret } }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConfigError)
    const text = `${(err as ConfigError).message}\n${JSON.stringify((err as ConfigError).issues)}`
    expect((err as ConfigError).issues.length).toBeGreaterThanOrEqual(4)
    expect(text).toContain('[REDACTED]')
    expect(text).not.toContain(secret)
    expect(text).not.toContain(literal)
    for (const value of Object.values(ENV).filter((v) => v !== ENV.ELEMENTUM_CLIENT_ID)) expect(text).not.toContain(value)
  })

  it('redacts every occurrence, longest secret first', () => {
    expect(redact('a abcd abcde abcd', ['abcd', 'abcde'])).toBe('a [REDACTED] [REDACTED] [REDACTED]')
  })
})
