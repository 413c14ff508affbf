import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { elasticioConnectionSchema, type ElasticioConnection } from '../../src/connectors/elasticio/index.js'
import { REDACTED } from '../../src/connectors/shared/tolerant.js'
import { createPgMirror } from '../../src/db/mirror.store.js'
import type { StreamRef } from '../../src/engine/types.js'
import { startElasticio, type JsonApiItem, type StartedElasticio } from '../../src/sim/elasticio/index.js'
import { runOnce, type TestConnection, testConnection } from '../support/connector.js'
import { createTestDb } from '../support/db.js'

const db = await createTestDb()
const { sql } = db
const mirror = createPgMirror(sql)
const WORKSPACE = '6500000000000000000000ws'
const STREAMS = {
  flows: { resource: 'flows', workspaceId: WORKSPACE },
  lookups: { resource: 'lookups' },
  users: { resource: 'users' },
  organizations: { resource: 'organizations' },
  credentials: { resource: 'credentials' },
}
const SEED = { flows: 230, lookups: 12, users: 101, organizations: 3, credentials: 140 }

let sim: StartedElasticio
let n = 0

beforeAll(async () => {
  sim = await startElasticio()
  await control('POST', '/_sim/seed', { ...SEED, workspaceId: WORKSPACE })
})
afterAll(async () => sim.close())
beforeEach(async () => {
  await control('DELETE', '/_sim/faults')
  await control('POST', '/_sim/stats/reset')
})

async function control(method: string, path: string, body?: unknown): Promise<unknown> {
  const url = `${sim.baseUrl.replace(/\/v2$/, '')}${path}`
  const res = await fetch(url, { method, ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) })
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  return res.status === 204 ? null : res.json()
}
const dump = async (resource: string) => ((await control('GET', `/_sim/dump/${resource}`)) as { items: JsonApiItem[] }).items
const listRequests = async () =>
  ((await control('GET', '/_sim/stats')) as { byRoute: Record<string, Record<string, number>> }).byRoute['GET /v2/:resource']?.['200'] ?? 0

type Setup = TestConnection

/** `apiKey`: the key the connection is configured with (default: the simulator's). */
function setup(apiKey = sim.credentials.apiKey): Setup {
  const connection = `eio-${++n}`
  const config: ElasticioConnection = elasticioConnectionSchema.parse({
    kind: 'elasticio',
    baseUrl: sim.baseUrl,
    auth: { mode: 'basic', username: sim.credentials.email, password: apiKey },
    streams: STREAMS,
  })
  return testConnection(connection, config)
}

const sync = (s: Setup, stream: string) => runOnce(mirror, s, stream)

const rows = (ref: StreamRef) =>
  sql<
    {
      remote_id: string
      title: string | null
      status: string | null
      remote_created_at: string | null
      remote_updated_at: string | null
      fields: Record<string, unknown>
      document: Record<string, unknown>
    }[]
  >`
    select remote_id, title, status, remote_created_at, remote_updated_at, fields, document from elsync.records
    where connection = ${ref.connection} and stream = ${ref.stream}`
const iso = (v: unknown) => new Date(String(v)).toISOString()

/** Every row of every table and view in the elsync schema, as text. */
async function dumpMirror(): Promise<string> {
  const relations = await sql<{ name: string }[]>`
    select table_name as name from information_schema.tables where table_schema = 'elsync'`
  const parts: string[] = []
  for (const { name } of relations) {
    const all = await sql.unsafe(`select t::text as row from elsync."${name}" t`)
    parts.push(...all.map((r) => String(r.row)))
  }
  expect(relations.map((r) => r.name)).toEqual(expect.arrayContaining(['records', 'record_changes', 'sync_runs', 'stream_state']))
  return parts.join('\n')
}

describe('elasticio connector', () => {
  it('mirrors flows, lookups, users, organizations and credentials in full, with normalized columns', async () => {
    const s = setup()
    for (const stream of Object.keys(STREAMS)) {
      const result = await sync(s, stream)
      expect(result, stream).toMatchObject({ status: 'succeeded', mode: 'full', seen: SEED[stream as keyof typeof SEED] })
      const items = await dump(stream)
      const mirrored = await rows({ connection: s.connection, stream })
      expect(mirrored.map((r) => r.remote_id).sort(), stream).toEqual(items.map((i) => i.id).sort())
    }
    const flow = (await dump('flows'))[5] as JsonApiItem
    const f = (await rows({ connection: s.connection, stream: 'flows' })).find((r) => r.remote_id === flow.id)
    expect(f).toMatchObject({
      title: flow.attributes.name,
      status: flow.attributes.status,
      fields: { type: flow.attributes.type, graph: flow.attributes.graph, relationships: { workspace: { type: 'workspace', id: WORKSPACE } } },
    })
    expect([iso(f?.remote_created_at), iso(f?.remote_updated_at)]).toEqual([flow.attributes.created_at, flow.attributes.updated_at])
    const user = (await dump('users'))[0] as JsonApiItem
    const u = (await rows({ connection: s.connection, stream: 'users' })).find((r) => r.remote_id === user.id)
    expect(u?.title).toBe(`${String(user.attributes.first_name)} ${String(user.attributes.last_name)}`)
  })

  it('pages with page[size]=100 and stops at total_pages: ceil(N/100) list requests per stream', async () => {
    const s = setup()
    for (const stream of ['flows', 'users', 'organizations']) await sync(s, stream)
    // flows 230 → 3, users 101 → 2, organizations 3 → 1
    expect(await listRequests()).toBe(6)
  })

  it('shows a human edit on the next sync as one update with old and new values in the history', async () => {
    const s = setup()
    const ref = { connection: s.connection, stream: 'flows' }
    await sync(s, 'flows')
    const flow = (await dump('flows'))[200] as JsonApiItem
    const newStatus = flow.attributes.status === 'active' ? 'inactive' : 'active'
    await control('POST', `/_sim/edit/flows/${flow.id}`, { attributes: { name: 'Renamed by a human', status: newStatus } })
    expect(await sync(s, 'flows')).toMatchObject({ status: 'succeeded', changed: 1, deleted: 0 })
    const history = await sql<{ op: string; version: number; changed: Record<string, { old: unknown; new: unknown }> }[]>`
      select op, version, changed from elsync.record_changes where connection = ${ref.connection} and stream = 'flows' and remote_id = ${flow.id} order by version`
    expect(history.map((h) => [h.op, h.version])).toEqual([
      ['insert', 1],
      ['update', 2],
    ])
    expect(history[1]?.changed).toMatchObject({
      title: { old: flow.attributes.name, new: 'Renamed by a human' },
      status: { old: flow.attributes.status, new: newStatus },
    })
    // the edit moved updated_at too: the row has it, `changed` lists only what a person changed
    expect(Object.keys(history[1]?.changed ?? {}).sort()).toEqual(['status', 'title'])
  })

  it('never lets a credential key value, password or API key reach the mirror, the run log or the logs', async () => {
    const s = setup()
    const ref = { connection: s.connection, stream: 'credentials' }
    expect(await sync(s, 'credentials')).toMatchObject({ status: 'succeeded', seen: SEED.credentials })
    const [first, second] = await dump('credentials')
    // a human renames one credential and rotates the keys of another (nested this time)
    await control('POST', `/_sim/edit/credentials/${String(first?.id)}`, { attributes: { name: 'Renamed credential' } })
    await control('POST', `/_sim/edit/credentials/${String(second?.id)}`, {
      attributes: {
        keys: { oauth: { access_token: 'rotated-access-token-5b1c', refresh_token: 'rotated-refresh-token-9d2e' }, apiKey: 'rotated-api-key-77aa' },
      },
    })
    expect(await sync(s, 'credentials')).toMatchObject({ status: 'succeeded', changed: 2 })
    // a failing run too: its error path must not leak either
    await control('POST', '/_sim/faults', { kind: 'malformed-json', count: 3, route: '/v2/credentials' })
    expect(await sync(s, 'credentials')).toMatchObject({ status: 'failed', error: { code: 'bad_response' } })

    const secrets = (await dump('credentials')).flatMap((c) => leaves(c.attributes.keys))
    expect(secrets.length).toBeGreaterThanOrEqual(SEED.credentials * 2)
    secrets.push(sim.credentials.apiKey ?? 'missing-api-key')
    const mirrorText = await dumpMirror()
    const logText = s.logs.text()
    expect(mirrorText).toContain('Renamed credential') // the dump does hold the credentials
    expect(logText).toContain('"route":"GET /credentials"') // and the logs the requests
    for (const secret of secrets) {
      expect(mirrorText.includes(secret), `mirror holds ${secret.slice(0, 6)}…`).toBe(false)
      expect(logText.includes(secret), `logs hold ${secret.slice(0, 6)}…`).toBe(false)
    }
    const rotated = (await rows(ref)).find((r) => r.remote_id === second?.id)
    expect(rotated?.document).toMatchObject({ attributes: { keys: { oauth: { access_token: REDACTED, refresh_token: REDACTED }, apiKey: REDACTED } } })
    expect(rotated?.fields.keys).toEqual({ oauth: { access_token: REDACTED, refresh_token: REDACTED }, apiKey: REDACTED })
  })

  it('refuses a flows stream without a workspace id at config load, naming the path', () => {
    const parsed = elasticioConnectionSchema.safeParse({
      kind: 'elasticio',
      baseUrl: sim.baseUrl,
      auth: { mode: 'basic', username: 'x@example.com', password: 'irrelevant' },
      streams: { flows: { resource: 'flows' } },
    })
    expect(parsed.success).toBe(false)
    expect(parsed.error?.issues[0]).toMatchObject({ path: ['streams', 'flows', 'workspaceId'], message: expect.stringContaining('required for flows') })
  })

  it('checks the connection with a one-item page and fails the check on a wrong API key', async () => {
    await setup().connector.check(AbortSignal.timeout(5_000))
    await expect(setup('wrong-key').connector.check(AbortSignal.timeout(5_000))).rejects.toMatchObject({ code: 'unauthorized' })
  })
})

function leaves(v: unknown): string[] {
  if (typeof v === 'string') return [v]
  if (Array.isArray(v)) return v.flatMap(leaves)
  if (v && typeof v === 'object') return Object.values(v).flatMap(leaves)
  return []
}
