/**
 * Copies one large attachment Elementum → Elementum (aliases `src` → `dst` of one simulator
 * in another process) through the sync cycle, in a fresh process, and prints the RSS growth
 * while the copy is pushed, so the figure measures the pipe (download → multipart upload),
 * not what ran before it.
 *
 *   node --expose-gc --import tsx bench/attachment-probe.ts <database url> <simulator json>
 */
import { createHash } from 'node:crypto'
import { createApp } from '../src/app.js'
import { connectionsFileSchema, mappingFileSchema } from '../src/config/schema.js'
import { createDb } from '../src/db/client.js'
import { createLogger, createRedactor } from '../src/logger.js'
import { elementumSimConnection } from '../src/sim/connections.js'
import { peakRssGrowthMb } from './support.js'

const [url, simJson] = process.argv.slice(2) as [string, string]
const sim = JSON.parse(simJson) as { baseUrl: string; credentials: Record<string, string> }
const redactor = createRedactor()
const logger = createLogger({ level: 'silent', redactor })
const db = createDb(url, { max: 4 })
const { connections } = connectionsFileSchema.parse({
  connections: {
    attach: elementumSimConnection(sim, ['src', 'dst']),
  },
})
const mapping = mappingFileSchema.parse({
  id: 'bench-attachments',
  left: { connection: 'attach', stream: 'src' },
  right: { connection: 'attach', stream: 'dst' },
  create: 'left-to-right',
  fields: [{ left: 'Title', right: 'Title', direction: 'left-to-right' }],
  attachments: { direction: 'left-to-right', oversize: 'skip' },
})
const app = createApp(
  {
    env: { databaseUrl: url, configDir: '.', adminPort: 0, logLevel: 'silent', dataDir: '.elsync' },
    config: { dir: '.', connections, mappings: [mapping] },
    logger,
    redactor,
  },
  { db: { sql: db.sql, url } },
)
const signal = AbortSignal.timeout(900_000)
const cycle = async () => {
  await app.pollPass({ mode: 'full', signal })
  await app.reconcilePass({ signal })
}
// first the record is created on the other side, then the copy is planned
await cycle()
await app.executor.drain(signal)
await cycle()
const started = performance.now()
const { result, peakMb } = await peakRssGrowthMb(() => app.executor.drain(signal))
const seconds = (performance.now() - started) / 1000
const [copy] = await db.sql<{ state: string; target_remote_id: string; target_attachment_id: string | null; size: string | null }[]>`
  select state, target_remote_id, target_attachment_id, size from elsync.attachment_copies`
// the copy as the target now serves it, hashed as it streams (after the measure)
let sha256: string | null = null
if (copy?.target_attachment_id) {
  const res = await fetch(sim.credentials.tokenUrl ?? `${new URL(sim.baseUrl).origin}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${sim.credentials.clientId}:${sim.credentials.clientSecret}`).toString('base64')}`,
    },
    body: 'grant_type=client_credentials',
  })
  const { access_token } = (await res.json()) as { access_token: string }
  const file = await fetch(`${sim.baseUrl}/tasks/dst/${encodeURIComponent(copy.target_remote_id)}/attachments/${copy.target_attachment_id}/content`, {
    headers: { authorization: `Bearer ${access_token}` },
  })
  const h = createHash('sha256')
  for await (const chunk of file.body as AsyncIterable<Uint8Array>) h.update(chunk)
  sha256 = h.digest('hex')
}
console.log(JSON.stringify({ sent: result.sent, dead: result.dead, state: copy?.state ?? null, size: Number(copy?.size ?? 0), peakMb, seconds, sha256 }))
await db.close()
