import { Writable } from 'node:stream'
import { inspect } from 'node:util'
import { describe, expect, it, onTestFinished } from 'vitest'
import { eleanConnectionSchema } from '../../src/connectors/elean/index.js'
import { elasticioConnectionSchema } from '../../src/connectors/elasticio/index.js'
import { elementumConnectionSchema } from '../../src/connectors/elementum/index.js'
import { authSecrets } from '../../src/config/secrets.js'
import { createElasticio } from '../../src/connectors/elasticio/index.js'
import { createElean } from '../../src/connectors/elean/index.js'
import { createElementum } from '../../src/connectors/elementum/index.js'
import { createPgMirror } from '../../src/db/mirror.store.js'
import type { Connector } from '../../src/engine/ports.js'
import { runStream, type StreamRunResult } from '../../src/engine/poll.js'
import type { StreamRef } from '../../src/engine/types.js'
import { createHttpClient } from '../../src/http/client.js'
import { createLogger, createRedactor, type Logger } from '../../src/logger.js'
import { REDACTED } from '../../src/redact.js'
import { basicCredentials, startSimServer } from '../../src/sim/common/server.js'
import { startElasticio } from '../../src/sim/elasticio/index.js'
import { startElean } from '../../src/sim/elean/index.js'
import { startElementum } from '../../src/sim/elementum/index.js'
import { createTestDb } from '../support/db.js'

/**
 * "A secret (client secret, API key, password, elastic.io credential key) never appears in
 * logs, errors, `sync_runs` or the mirror." Here the logger has NO redactor: its last-line
 * scrubber cannot hide anything, so a secret is absent from the logs only if no code wrote
 * it. Each HTTP client gets a redactor of its own, holding that client's secrets, and the
 * runs get none, so errors are clean only if the HTTP layer scrubbed them at the source.
 */

const db = await createTestDb()
const { sql } = db
const mirror = createPgMirror(sql)
const RETRY = { attempts: 3, baseMs: 10, maxMs: 50 }

/** A debug logger writing to memory, with no redactor at all. */
function plainLogs(): { logger: Logger; text(): string } {
  const lines: string[] = []
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk))
      cb()
    },
  })
  return { logger: createLogger({ level: 'debug', destination }), text: () => lines.join('') }
}

/** The ways a secret could be written: as is, URL-encoded, base64 (and base64 of `user:secret`). */
function formsOf(secret: string, user?: string): string[] {
  const forms = [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')]
  if (user !== undefined) forms.push(Buffer.from(`${user}:${secret}`).toString('base64'))
  return [...new Set(forms)]
}

/** An error as fully as it can be rendered: message, stack, cause chain and own properties. */
const errorText = (err: unknown): string => inspect(err, { depth: 8, breakLength: Infinity })

async function settle(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}

/** Every row of every table and view in the elsync schema, as text. */
async function dumpElsync(): Promise<string> {
  const relations = await sql<{ name: string }[]>`select table_name as name from information_schema.tables where table_schema = 'elsync'`
  expect(relations.map((r) => r.name)).toEqual(expect.arrayContaining(['records', 'record_changes', 'sync_runs', 'stream_state', 'comments']))
  const parts: string[] = []
  for (const { name } of relations) parts.push(...(await sql.unsafe(`select t::text as row from elsync."${name}" t`)).map((r) => String(r.row)))
  return parts.join('\n')
}

const syncRunsOf = async (connections: string[]) =>
  (await sql`select t::text as row from elsync.sync_runs t where connection = any(${connections}::text[])`).map((r) => r.row as string).join('\n')

const run = (stream: StreamRef, connector: Connector, mode: 'full' | 'incremental' = 'full') =>
  runStream(mirror, { stream, connector, mode, signal: AbortSignal.timeout(30_000), lookbackMs: 120_000, maxDeleteFraction: 0.5 })

interface Evidence {
  logs: string
  errors: string
  syncRuns: string
  mirror: string
}

/** Asserts no form of any secret is in any of the places, naming the place and the secret's first characters. */
function expectNoSecret(evidence: Evidence, secrets: readonly { what: string; forms: readonly string[] }[]) {
  const found: string[] = []
  for (const { what, forms } of secrets)
    for (const form of forms)
      for (const [place, text] of Object.entries(evidence)) if (text.includes(form)) found.push(`${what} (${form.slice(0, 6)}…) in ${place}`)
  expect(found).toEqual([])
}

describe('secrets stay out of logs, errors, sync_runs and the mirror (logger without a redactor)', () => {
  it('elean: the API key and a wrong API key, through a successful scan, a 500 and a 401', async () => {
    const sim = await startElean({ port: 0, perMinute: 0 })
    onTestFinished(() => sim.close())
    const seeded = await fetch(`${sim.server.url}/_sim/seed`, { method: 'POST', body: JSON.stringify({ project: 'web', count: 30 }) })
    expect(seeded.status).toBeLessThan(300)
    const key = sim.credentials.apiKey as string
    const wrongKey = `el_${'5ec7e7'.repeat(7).slice(0, 40)}`
    const logs = plainLogs()
    const connectorWith = (connection: string, token: string) => {
      const config = eleanConnectionSchema.parse({
        kind: 'elean',
        baseUrl: sim.baseUrl,
        timeoutMs: 2_000,
        auth: { mode: 'bearer', token },
        streams: { web: { project: 'web' } },
      })
      const http = createHttpClient(
        { name: connection, baseUrl: config.baseUrl, auth: config.auth, timeoutMs: config.timeoutMs },
        { logger: logs.logger, redactor: createRedactor([token]), retry: RETRY },
      )
      return createElean({ name: connection, config, http, logger: logs.logger }, { commentsPerScan: 5 })
    }
    const good = { connection: 'elean-secret', stream: 'web' }
    const bad = { connection: 'elean-secret-wrong-key', stream: 'web' }
    const connector = connectorWith(good.connection, key)
    const wrong = connectorWith(bad.connection, wrongKey)

    const results: StreamRunResult[] = []
    results.push(await run(good, connector))
    expect(results[0]).toMatchObject({ status: 'succeeded', seen: 30 })
    sim.server.faults.arm({ kind: 'status', status: 500, count: 1, route: '/v1/public/web/tasks' })
    results.push(await run(good, connector))
    expect(results[1]).toMatchObject({ status: 'failed', error: { code: 'server_error' } })
    results.push(await run(bad, wrong))
    expect(results[2]).toMatchObject({ status: 'failed', error: { code: 'unauthorized' } })
    const thrown = await settle(wrong.check(AbortSignal.timeout(5_000)))
    expect(thrown).toMatchObject({ code: 'unauthorized' })

    const evidence: Evidence = {
      logs: logs.text(),
      errors: [...results.map((r) => JSON.stringify(r.error ?? null)), errorText(thrown)].join('\n'),
      syncRuns: await syncRunsOf([good.connection, bad.connection]),
      mirror: await dumpElsync(),
    }
    // the places do hold what was looked for: requests, both failures, the tasks and their comments
    expect(evidence.logs).toMatch(/"route":"GET \/\{project\}\/tasks"/)
    expect(evidence.logs).toMatch(/"status":401/)
    expect(evidence.syncRuns).toMatch(/server_error: .*500/)
    expect(evidence.syncRuns).toMatch(/unauthorized: .*401/)
    expect(evidence.mirror).toContain('WEB-1')
    expectNoSecret(evidence, [
      { what: 'API key', forms: formsOf(key) },
      { what: 'wrong API key', forms: formsOf(wrongKey) },
    ])
  })

  it('elastic.io: the API key (Basic password), a wrong one, and every credential key value', async () => {
    const email = 'ops@example.com'
    const apiKey = 'eio-Api-K3y-4c2f8a91d7e6b5'
    const wrongKey = 'eio-Wr0ng-K3y-0b9a8c7d6e5f'
    const sim = await startElasticio({ port: 0, email, apiKey })
    onTestFinished(() => sim.close())
    const seeded = await fetch(`${sim.server.url}/_sim/seed`, { method: 'POST', body: JSON.stringify({ credentials: 40, users: 3 }) })
    expect(seeded.status).toBeLessThan(300)
    const logs = plainLogs()
    const connectorWith = (connection: string, password: string) => {
      const config = elasticioConnectionSchema.parse({
        kind: 'elasticio',
        baseUrl: sim.baseUrl,
        timeoutMs: 2_000,
        auth: { mode: 'basic', username: email, password },
        streams: { credentials: { resource: 'credentials' }, users: { resource: 'users' } },
      })
      const http = createHttpClient(
        { name: connection, baseUrl: config.baseUrl, auth: config.auth, timeoutMs: config.timeoutMs },
        { logger: logs.logger, redactor: createRedactor([password]), retry: RETRY },
      )
      return createElasticio({ name: connection, config, http, logger: logs.logger })
    }
    const connector = connectorWith('eio-secret', apiKey)
    const wrong = connectorWith('eio-secret-wrong-key', wrongKey)
    const creds = { connection: 'eio-secret', stream: 'credentials' }

    const results: StreamRunResult[] = []
    results.push(await run(creds, connector))
    expect(results[0]).toMatchObject({ status: 'succeeded', seen: 40 })
    results.push(await run({ connection: 'eio-secret', stream: 'users' }, connector))
    expect(results[1]).toMatchObject({ status: 'succeeded' })
    // a human rotates one credential's keys; a failing run follows
    const { items } = (await (await fetch(`${sim.server.url}/_sim/dump/credentials`)).json()) as { items: { id: string; attributes: { keys: unknown } }[] }
    const edited = await fetch(`${sim.server.url}/_sim/edit/credentials/${items[3]?.id}`, {
      method: 'POST',
      body: JSON.stringify({ attributes: { keys: { oauth: { access_token: 'rotated-access-7f3e2d1c', refresh_token: 'rotated-refresh-9a8b7c6d' } } } }),
    })
    expect(edited.status).toBeLessThan(300)
    expect(await run(creds, connector)).toMatchObject({ status: 'succeeded', changed: 1 })
    sim.server.faults.arm({ kind: 'status', status: 500, count: 1, route: '/v2/credentials' })
    results.push(await run(creds, connector))
    expect(results[2]).toMatchObject({ status: 'failed', error: { code: 'server_error' } })
    results.push(await run({ connection: 'eio-secret-wrong-key', stream: 'credentials' }, wrong))
    expect(results[3]).toMatchObject({ status: 'failed', error: { code: 'unauthorized' } })
    const thrown = await settle(wrong.check(AbortSignal.timeout(5_000)))
    expect(thrown).toMatchObject({ code: 'unauthorized' })

    const keyValues = ((await (await fetch(`${sim.server.url}/_sim/dump/credentials`)).json()) as { items: { attributes: { keys: unknown } }[] }).items.flatMap(
      (c) => leaves(c.attributes.keys),
    )
    expect(keyValues).toEqual(expect.arrayContaining(['rotated-access-7f3e2d1c', 'rotated-refresh-9a8b7c6d']))
    expect(keyValues.length).toBeGreaterThanOrEqual(40 * 2)
    const evidence: Evidence = {
      logs: logs.text(),
      errors: [...results.map((r) => JSON.stringify(r.error ?? null)), errorText(thrown)].join('\n'),
      syncRuns: await syncRunsOf(['eio-secret', 'eio-secret-wrong-key']),
      mirror: await dumpElsync(),
    }
    expect(evidence.logs).toMatch(/"route":"GET \/credentials"/)
    expect(evidence.logs).toMatch(/"status":401/)
    expect(evidence.syncRuns).toMatch(/server_error: .*500/)
    expect(evidence.syncRuns).toMatch(/unauthorized: .*401/)
    expect(evidence.mirror).toContain(items[3]?.id)
    expect(evidence.mirror).toContain(REDACTED)
    expectNoSecret(evidence, [
      { what: 'API key', forms: formsOf(apiKey, email) },
      { what: 'wrong API key', forms: formsOf(wrongKey, email) },
      ...keyValues.map((v) => ({ what: 'credential key value', forms: [v] })),
    ])
  })

  it('elementum: the client secret and a wrong one, through a full scan with children, a 500 and a refused token', async () => {
    const alias = 'secrets'
    const secret = 'elementum-Cl1ent-S3cret-7a6b5c4d3e'
    const wrongSecret = 'elementum-Wr0ng-S3cret-1f2e3d4c5b'
    const sim = await startElementum({ port: 0, clientSecret: secret })
    onTestFinished(() => sim.close())
    const seeded = await fetch(`${sim.server.url}/_sim/seed`, { method: 'POST', body: JSON.stringify({ alias, count: 20 }) })
    expect(seeded.status).toBeLessThan(300)
    const clientId = sim.credentials.clientId as string
    const logs = plainLogs()
    const connectorWith = (connection: string, clientSecret: string) => {
      const config = elementumConnectionSchema.parse({
        kind: 'elementum',
        baseUrl: sim.baseUrl,
        timeoutMs: 2_000,
        auth: { mode: 'oauth2-client-credentials', clientId, clientSecret },
        streams: { [alias]: { recordType: 'tasks', alias } },
      })
      const http = createHttpClient(
        { name: connection, baseUrl: config.baseUrl, auth: config.auth, timeoutMs: config.timeoutMs },
        { logger: logs.logger, redactor: createRedactor([clientSecret]), defaultTokenUrl: `${sim.server.url}/oauth/token`, retry: RETRY },
      )
      return createElementum({ name: connection, config, http, logger: logs.logger })
    }
    const good = { connection: 'elementum-secret', stream: alias }
    const bad = { connection: 'elementum-secret-wrong', stream: alias }
    const connector = connectorWith(good.connection, secret)
    const wrong = connectorWith(bad.connection, wrongSecret)

    const results: StreamRunResult[] = []
    results.push(await run(good, connector))
    expect(results[0]).toMatchObject({ status: 'succeeded', seen: 20 })
    sim.server.faults.arm({ kind: 'status', status: 500, count: 1, route: `/v1/tasks/${alias}` })
    results.push(await run(good, connector, 'incremental'))
    expect(results[1]).toMatchObject({ status: 'failed', error: { code: 'server_error' } })
    results.push(await run(bad, wrong))
    expect(results[2]).toMatchObject({ status: 'failed', error: { code: 'auth_failed' } })
    const thrown = await settle(wrong.check(AbortSignal.timeout(5_000)))
    expect(thrown).toMatchObject({ code: 'auth_failed' })

    const evidence: Evidence = {
      logs: logs.text(),
      errors: [...results.map((r) => JSON.stringify(r.error ?? null)), errorText(thrown)].join('\n'),
      syncRuns: await syncRunsOf([good.connection, bad.connection]),
      mirror: await dumpElsync(),
    }
    expect(evidence.logs).toMatch(/"route":"GET \/\{recordType\}\/\{alias\}"/)
    expect(evidence.syncRuns).toMatch(/server_error: .*500/)
    expect(evidence.syncRuns).toMatch(/auth_failed: token endpoint .* answered 401/)
    expect(evidence.mirror).toContain('TSK-20')
    expectNoSecret(evidence, [
      { what: 'client secret', forms: formsOf(secret, clientId) },
      { what: 'wrong client secret', forms: formsOf(wrongSecret, clientId) },
    ])
  })
})

describe('redaction scrubs secrets only', () => {
  it('leaves "basic", "readonly", "my-client" and the token URL readable in errors, sync_runs and logs while the client secret is scrubbed', async () => {
    // wired as in production: one redactor made from the config's secrets, shared by the
    // logger, the HTTP client and the run. The server echoes the credentials it was sent.
    const secret = 'my-Cl1ent-S3cret-2b4d6f8a0c'
    const tokenRequests: { user: string | undefined; password: string | undefined; scope: string | null }[] = []
    let tokenMode: 'reject' | 'issue' = 'reject'
    const server = await startSimServer({
      name: 'oauth-echo',
      errorBody: (status, message) => ({ status, message }),
      routes: [
        {
          method: 'POST',
          pattern: '/oauth/token',
          handler: (req) => {
            const creds = basicCredentials(req)
            const scope = new URLSearchParams(req.body.toString('utf8')).get('scope')
            tokenRequests.push({ user: creds?.user, password: creds?.password, scope })
            if (tokenMode === 'reject') {
              return {
                status: 400,
                body: {
                  error: 'invalid_scope',
                  error_description: `client my-client (basic auth) may not request scope readonly; got ${creds?.user}:${creds?.password}`,
                },
              }
            }
            return { status: 200, body: { access_token: 'issued-access-token-3c5e7a9b', token_type: 'Bearer', expires_in: 3600 } }
          },
        },
        {
          method: 'GET',
          pattern: '/v1/:recordType/:alias',
          handler: () => ({
            status: 503,
            body: { status: 503, message: `maintenance: client my-client, scope readonly, client auth basic; secret on file ${secret}` },
          }),
        },
      ],
    })
    onTestFinished(() => server.close())
    const tokenUrl = `${server.url}/oauth/token`
    const config = elementumConnectionSchema.parse({
      kind: 'elementum',
      baseUrl: `${server.url}/v1`,
      timeoutMs: 2_000,
      auth: { mode: 'oauth2-client-credentials', tokenUrl, clientId: 'my-client', clientSecret: secret, scope: 'readonly', clientAuth: 'basic' },
      streams: { tasks: { recordType: 'tasks', alias: 'tasks' } },
    })
    expect(authSecrets(config.auth)).toEqual([secret])
    const redactor = createRedactor(authSecrets(config.auth))
    const lines: string[] = []
    const destination = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk))
        cb()
      },
    })
    const logger = createLogger({ level: 'debug', redactor, destination })
    const http = createHttpClient(
      { name: 'scoped', baseUrl: config.baseUrl, auth: config.auth, timeoutMs: config.timeoutMs },
      { logger, redactor, retry: RETRY },
    )
    const connector = createElementum({ name: 'scoped', config, http, logger }, { children: false })
    const stream = { connection: 'scoped', stream: 'tasks' }
    const go = () =>
      runStream(mirror, {
        stream,
        connector,
        mode: 'full',
        signal: AbortSignal.timeout(30_000),
        lookbackMs: 0,
        maxDeleteFraction: 0.1,
        redact: redactor.redact,
      })

    // 1. the token endpoint refuses, echoing the credentials
    const refused = await go()
    expect(tokenRequests[0]).toEqual({ user: 'my-client', password: secret, scope: 'readonly' }) // the config is as described
    expect(refused).toMatchObject({ status: 'failed', error: { code: 'auth_failed' } })
    const authMessage = refused.error?.message ?? ''
    expect(authMessage, 'the secret is scrubbed').toContain(`my-client:${REDACTED}`)
    expect(authMessage, 'the token URL is not a secret').toContain(`token endpoint ${tokenUrl} answered 400`)
    for (const word of ['basic', 'readonly', 'my-client']) expect(authMessage, `"${word}" is not a secret`).toContain(word)

    // 2. a token is issued; the API answers 503 three times, echoing the secret
    tokenMode = 'issue'
    const unavailable = await go()
    expect(unavailable).toMatchObject({ status: 'failed', error: { code: 'server_error' } })
    const apiMessage = unavailable.error?.message ?? ''
    expect(apiMessage).toContain(`maintenance: client my-client, scope readonly, client auth basic; secret on file ${REDACTED}`)

    const stored = (await sql`select error from elsync.sync_runs where id in ${sql([refused.runId, unavailable.runId])} order by id`).map(
      (r) => r.error as string,
    )
    expect(stored).toEqual([`auth_failed: ${authMessage}`, `server_error: ${apiMessage}`])
    const retrying = lines.filter((l) => l.includes('"msg":"retrying"'))
    expect(retrying).toHaveLength(RETRY.attempts - 1)
    for (const line of retrying) expect(line).toContain(`maintenance: client my-client, scope readonly, client auth basic; secret on file ${REDACTED}`)
    const everything = [authMessage, apiMessage, ...stored, ...lines].join('\n')
    for (const form of formsOf(secret, 'my-client')) expect(everything.includes(form), 'the client secret is nowhere').toBe(false)
  })
})

function leaves(v: unknown): string[] {
  if (typeof v === 'string') return [v]
  if (Array.isArray(v)) return v.flatMap(leaves)
  if (v && typeof v === 'object') return Object.values(v).flatMap(leaves)
  return []
}
