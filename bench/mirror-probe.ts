/**
 * Runs one full Elean mirror in a fresh process and prints its RSS before and at peak,
 * so memory figures are not blurred by what the benchmark did earlier.
 *
 *   node --import tsx bench/mirror-probe.ts <database url> <simulator json> <connection name>
 */
import { eleanConnectionSchema } from '../src/config/schema.js'
import { createElean } from '../src/connectors/elean/index.js'
import { createDb } from '../src/db/client.js'
import { createPgMirror } from '../src/db/mirror.store.js'
import { runStream } from '../src/engine/poll.js'
import { createHttpClient } from '../src/http/client.js'
import { createLogger, createRedactor } from '../src/logger.js'
import { peakRssGrowthMb } from './support.js'

const [url, simJson, connection] = process.argv.slice(2) as [string, string, string]
const sim = JSON.parse(simJson) as { baseUrl: string; credentials: Record<string, string> }
const redactor = createRedactor()
const logger = createLogger({ level: 'silent', redactor })
const db = createDb(url, { max: 2 })
const config = eleanConnectionSchema.parse({ kind: 'elean', baseUrl: sim.baseUrl, auth: { mode: 'bearer', token: sim.credentials.apiKey }, streams: { bench: { project: 'bench' } } })
const http = createHttpClient({ name: connection, baseUrl: config.baseUrl, auth: config.auth }, { logger, redactor })
const connector = createElean({ name: connection, config, http, logger }, { commentsPerScan: 0 })
await db.sql`select 1`
const { result, peakMb } = await peakRssGrowthMb(() =>
  runStream(createPgMirror(db.sql), { stream: { connection, stream: 'bench' }, connector, mode: 'full', signal: AbortSignal.timeout(600_000), lookbackMs: 0, maxDeleteFraction: 0.1 }),
)
global.gc?.()
const retainedHeapMb = Math.round((process.memoryUsage().heapUsed / 1048576) * 10) / 10
console.log(JSON.stringify({ status: result.status, seen: result.seen, peakMb, retainedHeapMb }))
await db.close()
