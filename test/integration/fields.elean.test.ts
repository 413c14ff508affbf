import { describe, expect, it } from 'vitest'
import { eleanConnectionSchema } from '../../src/connectors/elean/elean.config.js'
import { createEleanApi } from '../../src/connectors/elean/elean.client.js'
import { createEleanFieldCatalog } from '../../src/connectors/elean/elean.fields.js'
import { statusLookup } from '../../src/connectors/elean/elean.normalize.js'
import { createElean } from '../../src/connectors/elean/index.js'
import { createPgMirror } from '../../src/db/mirror.store.js'
import { DEFAULT_MARKER, formatAttribution } from '../../src/engine/attribution.js'
import { runStream } from '../../src/engine/poll.js'
import type { Snapshot } from '../../src/engine/record.js'
import { createHttpClient } from '../../src/http/client.js'
import { createTestDb } from '../support/db.js'
import { captureLogs } from '../support/logs.js'
import { useEleanSim } from '../support/sim-elean.js'

const db = await createTestDb()
const { sql } = db
const mirror = createPgMirror(sql)
const start = useEleanSim()

let n = 0
/** An empty project `web` on a fresh simulator, its connector and its field catalog (wired here as the connector's create() will). */
async function harness() {
  const { sim, api, control } = await start({ perMinute: 0 })
  expect((await control('POST', '/projects/web', {})).status).toBe(201)
  const connection = `elean-fields-${++n}`
  const config = eleanConnectionSchema.parse({
    kind: 'elean',
    baseUrl: sim.baseUrl,
    auth: { mode: 'bearer', token: sim.credentials.apiKey },
    streams: { web: { project: 'web' } },
  })
  const logs = captureLogs()
  const http = createHttpClient(
    { name: connection, baseUrl: config.baseUrl, auth: config.auth, timeoutMs: 5000 },
    { logger: logs.logger, redactor: logs.redactor },
  )
  const connector = createElean({ name: connection, config, http, logger: logs.logger })
  const client = createEleanApi(http)
  const fields = createEleanFieldCatalog({
    connection: 'elean',
    streams: config.streams,
    statuses: (project, signal) => client.statuses(project, signal).then(statusLookup),
  })
  const poll = async () => {
    const summary = await runStream(mirror, {
      stream: { connection, stream: 'web' },
      connector,
      mode: 'full',
      signal: AbortSignal.timeout(30_000),
      lookbackMs: 0,
      maxDeleteFraction: 1,
    })
    expect(summary.status).toBe('succeeded')
  }
  const mirrored = async (remoteId: string) => {
    const [row] = await sql<{ snapshot: Snapshot; document: { description: string | null } }[]>`
      select snapshot, document from elsync.records where connection = ${connection} and stream = 'web' and remote_id = ${remoteId}`
    if (!row) throw new Error(`task ${remoteId} is not mirrored`)
    return row
  }
  const createTask = async (body: Record<string, unknown>): Promise<string> => {
    const res = await api('POST', '/web/tasks', { body })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    return res.body.id as string
  }
  return { api, control, connection, fields, poll, mirrored, createTask }
}

const signal = () => AbortSignal.timeout(10_000)

describe('Elean field catalog against the simulator', () => {
  it('mirrors a comment posted with the attribution footer as synced, and a human comment as native', async () => {
    const h = await harness()
    const id = await h.createTask({ title: 'Printer jam' })
    const copied = await h.api('POST', `/web/tasks/${id}/comments`, { body: { content: formatAttribution('Replaced the drum.', 'Grace Hopper', 'Elementum') } })
    expect(copied.status).toBe(201)
    expect((await h.control('POST', `/tasks/web/${id}/comments`, { content: 'Thanks!', authorName: 'Mei Tanaka' })).status).toBeLessThan(300)
    await h.poll()
    const comments = await sql`select body, origin from elsync.comments where connection = ${h.connection} and remote_id = ${id} order by comment_id`
    expect(comments.map((c) => [c.body, c.origin]).sort()).toEqual([
      ['Replaced the drum.\n\n— Grace Hopper via Elementum', 'synced'],
      ['Thanks!', 'native'],
    ])
  })

  it('reads our own write back, on the next poll, equal after normalization to what was written', async () => {
    const h = await harness()
    const written = { title: '  Padded title \n', description: '  ', priority: 'High', dueDate: '2026-03-15', status: 'in review' }
    const payload = await h.fields.toPayload('web', written, signal())
    expect(payload).toMatchObject({ title: 'Padded title', priority: 'high', dueDate: '2026-03-15T00:00:00.000Z' })
    const id = await h.createTask(payload)
    await h.poll()
    const { snapshot } = await h.mirrored(id)
    for (const [name, value] of Object.entries(written)) {
      expect(h.fields.normalize('web', name, h.fields.read(snapshot, name)), name).toEqual(h.fields.normalize('web', name, value))
    }
    expect(snapshot).toMatchObject({ title: 'Padded title', description: null, status: 'In Review', priority: 'high', due_at: '2026-03-15T00:00:00.000Z' })

    // a PATCH through the catalog reads back the same way
    const patch = await h.fields.toPayload('web', { title: 'Renamed ', dueDate: '2026-04-01T09:30:00+02:00', status: 'DONE' }, signal())
    expect((await h.api('PATCH', `/web/tasks/${id}`, { body: patch })).status).toBe(200)
    await h.poll()
    const after = (await h.mirrored(id)).snapshot
    expect([after.title, after.due_at, after.status]).toEqual(['Renamed', '2026-04-01T07:30:00.000Z', 'Done'])
    expect(h.fields.normalize('web', 'status', h.fields.read(after, 'status'))).toBe(h.fields.normalize('web', 'status', 'DONE'))
  })

  it("keeps the create marker out of the mirror's description, and in the document", async () => {
    const h = await harness()
    const raw = DEFAULT_MARKER.append('Users cannot log in.', { mapping: 'it-requests', link: '17' })
    const id = await h.createTask({ title: 'Created by a push', description: raw })
    await h.poll()
    const row = await h.mirrored(id)
    expect(row.snapshot.description).toBe('Users cannot log in.')
    expect(row.document.description).toBe(raw)
    expect(h.fields.read(row.snapshot, 'description')).toBe('Users cannot log in.')
  })

  it('refuses a status name the project does not have, naming it', async () => {
    const h = await harness()
    await expect(h.fields.toPayload('web', { status: 'Blocked' }, signal())).rejects.toMatchObject({
      code: 'unmappable_value',
      field: 'status',
      value: 'Blocked',
    })
  })
})
