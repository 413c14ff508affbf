/**
 * Runs one full Elean mirror in a fresh process and prints its RSS before and at peak,
 * so memory figures are not blurred by what the benchmark did earlier.
 *
 *   node --import tsx bench/mirror-probe.ts <database url> <simulator json> <connection name>
 */
import { createDb } from '../src/db/client.js'
import { createPgMirror } from '../src/db/mirror.store.js'
import { runStream } from '../src/engine/poll.js'
import { createLogger, createRedactor } from '../src/logger.js'
import { eleanBenchConnector, peakRssGrowthMb } from './support.js'

const [url, simJson, connection] = process.argv.slice(2) as [string, string, string]
const sim = JSON.parse(simJson) as { baseUrl: string; credentials: Record<string, string> }
const redactor = createRedactor()
const logger = createLogger({ level: 'silent', redactor })
const db = createDb(url, { max: 2 })
const connector = eleanBenchConnector(sim, connection, { logger, redactor })
await db.sql`select 1`
const t0 = performance.now()
const { result, peakMb } = await peakRssGrowthMb(() =>
  runStream(createPgMirror(db.sql), {
    stream: { connection, stream: 'bench' },
    connector,
    mode: 'full',
    signal: AbortSignal.timeout(600_000),
    lookbackMs: 0,
    maxDeleteFraction: 0.1,
  }),
)
global.gc?.()
const retainedHeapMb = Math.round((process.memoryUsage().heapUsed / 1048576) * 10) / 10
const ms = Math.round(performance.now() - t0)
console.log(JSON.stringify({ status: result.status, seen: result.seen, peakMb, retainedHeapMb, ms }))
await db.close()
