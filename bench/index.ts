/**
 * `npm run bench`: one JSON line per figure, each a ratio or count measured in this run
 * (DESIGN.md section 8). Sizes: BENCH_N (default 10 000) records; memory at BENCH_MEM_N
 * (default 2 000) and 10× that; a first backfill of BENCH_BACKFILL_N (default 50 000); an
 * attachment of BENCH_ATTACHMENT_MB (default 250) copied Elementum → Elementum; freshness over
 * BENCH_FRESHNESS_N changes (default 20); replicas over BENCH_REPLICAS_N records a stream (default
 * 5 000); API efficiency with children over BENCH_API_N records
 * (default 1 000) per vendor. BENCH_ONLY (comma-separated) runs only the named
 * groups: `ingest` (ingest efficiency, no-op resync, Elean API efficiency), `elementum`,
 * `children`, `memory`, `backfill`, `attachment`, `freshness`, `replicas`; unset runs them all.
 * Uses DATABASE_URL's server when set, else an embedded one.
 */
import { elementumConnectionSchema } from '../src/connectors/elementum/index.js'
import { createElementum } from '../src/connectors/elementum/index.js'
import { createPgMirror } from '../src/db/mirror.store.js'
import type { Connector } from '../src/engine/ports.js'
import { runStream } from '../src/engine/poll.js'
import { createHttpClient } from '../src/http/client.js'
import { createLogger, createRedactor } from '../src/logger.js'
import { apiEfficiencyWithChildren } from './api-children.js'
import { attachmentStreamingRss } from './attachments.js'
import { backfillPageCost } from './backfill.js'
import { freshness } from './freshness.js'
import { replicas } from './replicas.js'
import { benchDatabase, cpuOf, eleanBenchConnector, line, runProbe, spawnSim, type BenchDb, type SimProcess } from './support.js'

const N = Number(process.env.BENCH_N ?? 10_000)
const MEM_N = Number(process.env.BENCH_MEM_N ?? 2_000)
const BACKFILL_N = Number(process.env.BENCH_BACKFILL_N ?? 50_000)
const ATTACHMENT_MB = Number(process.env.BENCH_ATTACHMENT_MB ?? 250)
const FRESHNESS_N = Number(process.env.BENCH_FRESHNESS_N ?? 20)
const REPLICAS_N = Number(process.env.BENCH_REPLICAS_N ?? 5_000)
const API_N = Number(process.env.BENCH_API_N ?? 1_000)
const ONLY = new Set(
  (process.env.BENCH_ONLY ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
)
const wanted = (group: 'ingest' | 'elementum' | 'children' | 'memory' | 'backfill' | 'attachment' | 'freshness' | 'replicas'): boolean =>
  ONLY.size === 0 || ONLY.has(group)
const redactor = createRedactor()
const logger = createLogger({ level: 'silent', redactor })

function elementumConnector(sim: SimProcess): Connector {
  const c = sim.credentials
  const config = elementumConnectionSchema.parse({
    kind: 'elementum',
    baseUrl: sim.baseUrl,
    auth: { mode: 'oauth2-client-credentials', clientId: c.clientId, clientSecret: c.clientSecret, tokenUrl: c.tokenUrl },
    streams: { bench: { recordType: 'tasks', alias: 'bench' } },
  })
  const http = createHttpClient({ name: 'elementum', baseUrl: config.baseUrl, auth: config.auth }, { logger, redactor })
  return createElementum({ name: 'elementum', config, http, logger }, { children: false })
}

const sync = (db: BenchDb, connector: Connector, connection: string, mode: 'full' | 'incremental') =>
  runStream(createPgMirror(db.sql), {
    stream: { connection, stream: 'bench' },
    connector,
    mode,
    signal: AbortSignal.timeout(600_000),
    lookbackMs: 120_000,
    maxDeleteFraction: 0.1,
  })

async function listCalls(sim: SimProcess, route: string): Promise<number> {
  const stats = (await (await fetch(`${sim.simUrl}/_sim/stats`)).json()) as { byRoute: Record<string, Record<string, number>> }
  return Object.values(stats.byRoute[route] ?? {}).reduce((a, b) => a + b, 0)
}

/** The pages a raw upsert writes: the simulator's tasks, fetched before the clock starts. */
async function rawPages(sim: SimProcess): Promise<{ id: string }[][]> {
  const pages: { id: string }[][] = []
  for (let page = 1; ; page++) {
    const res = await fetch(`${sim.baseUrl}/bench/tasks?limit=100&page=${page}`, { headers: { authorization: `Bearer ${sim.credentials.apiKey}` } })
    const body = (await res.json()) as { tasks: { id: string }[]; meta: { hasMore: boolean } }
    pages.push(body.tasks)
    if (!body.meta.hasMore) break
  }
  return pages
}

/** Rows/s of a batched upsert of `pages` (one transaction per page), the baseline of ingest efficiency. */
async function rawUpsertRowsPerSecond(db: BenchDb, pages: { id: string }[][]): Promise<number> {
  await db.sql`create table if not exists public.bench_raw (id text primary key, doc jsonb not null)`
  const t0 = performance.now()
  for (const tasks of pages) {
    await db.sql.begin(
      (tx) => tx`insert into public.bench_raw (id, doc)
        select * from unnest(${tasks.map((t) => t.id)}::text[], ${tasks.map((t) => JSON.stringify(t))}::jsonb[])
        on conflict (id) do update set doc = excluded.doc`,
    )
  }
  return (pages.flat().length / (performance.now() - t0)) * 1000
}

async function ingest(db: BenchDb, sims: SimProcess[]): Promise<void> {
  // ingest efficiency, API efficiency and no-op resync on Elean (offset-paged full scans)
  const elean = await spawnSim('elean', N)
  sims.push(elean)
  const connector = eleanBenchConnector(elean, 'elean', { logger, redactor })
  const t0 = performance.now()
  const mirrorCpu = await cpuOf(db, elean, () => sync(db, connector, 'elean', 'full'))
  const first = mirrorCpu.result
  const mirrorRps = (first.seen / (performance.now() - t0)) * 1000
  const pages = await rawPages(elean)
  const rawCpu = await cpuOf(db, null, () => rawUpsertRowsPerSecond(db, pages))
  const rawRps = rawCpu.result
  const perPage = (ms: number | null, count: number) => (ms === null ? null : +(ms / count).toFixed(2))
  line({
    figure: 'ingest_efficiency',
    n: N,
    mirror_rows_per_s: Math.round(mirrorRps),
    raw_upsert_rows_per_s: Math.round(rawRps),
    ratio: +(mirrorRps / rawRps).toFixed(3),
    // CPU ms per page of 100 rows, by process: on a shared machine the ratio follows these
    cpu_ms_per_page: {
      mirror: {
        node: perPage(mirrorCpu.node, first.pages),
        postgres: perPage(mirrorCpu.postgres, first.pages),
        simulator: perPage(mirrorCpu.simulator, first.pages),
      },
      raw: { node: perPage(rawCpu.node, pages.length), postgres: perPage(rawCpu.postgres, pages.length) },
    },
  })

  const before = await db.sql<{ x: string }[]>`select xmin::text as x from elsync.records order by id`
  const [h0] = await db.sql<{ n: number }[]>`select count(*)::int as n from elsync.record_changes`
  const listBefore = await listCalls(elean, 'GET /v1/public/:project/tasks')
  const second = await sync(db, connector, 'elean', 'full')
  const after = await db.sql<{ x: string }[]>`select xmin::text as x from elsync.records order by id`
  const [h1] = await db.sql<{ n: number }[]>`select count(*)::int as n from elsync.record_changes`
  const rowsWritten = after.filter((r, i) => r.x !== before[i]?.x).length
  line({ figure: 'noop_resync', n: N, status: second.status, rows_written: rowsWritten, history_rows_added: (h1?.n ?? 0) - (h0?.n ?? 0) })
  const listed = (await listCalls(elean, 'GET /v1/public/:project/tasks')) - listBefore
  line({
    figure: 'api_efficiency',
    vendor: 'elean',
    scan_of: N,
    requests: second.requests,
    list_requests: listed,
    minimum: Math.ceil(N / 100),
    ratio: +(second.requests / Math.ceil(N / 100)).toFixed(3),
  })
}

/** API efficiency of an empty incremental window on Elementum: the minimum is one request. */
async function elementumEmptyWindow(db: BenchDb, sims: SimProcess[]): Promise<void> {
  const elementum = await spawnSim('elementum', 1_000)
  sims.push(elementum)
  const ec = elementumConnector(elementum)
  await sync(db, ec, 'elementum', 'full')
  const empty = await sync(db, ec, 'elementum', 'incremental')
  line({ figure: 'api_efficiency', vendor: 'elementum', empty_window_requests: empty.requests, minimum: 1, ratio: empty.requests })
}

/** The old-space limit (MB) of the capped memory probes: a heap bounded as an operator bounds it (`NODE_OPTIONS`). */
const CAPPED_OLD_SPACE_MB = 64

/**
 * Memory slope: peak RSS growth of a full mirror at MEM_N and 10·MEM_N, each in a fresh
 * process, the simulator in yet another. Then the same two runs with V8's old space limited to
 * CAPPED_OLD_SPACE_MB (`memory_slope_capped`): by default V8 lets garbage pile up between major
 * collections in a longer run (the live heap stays flat), and the capped runs show what a bounded
 * heap costs in time.
 */
async function memorySlope(db: BenchDb, sims: SimProcess[]): Promise<void> {
  const ratio = (a?: number, b?: number) => (a ? +((b ?? 0) / a).toFixed(2) : null)
  const probes = async (capped: boolean) => {
    const out: Record<number, Awaited<ReturnType<typeof runProbe>>> = {}
    for (const n of [MEM_N, MEM_N * 10]) {
      const sim = await spawnSim('elean', n)
      sims.push(sim)
      const probe = await runProbe(db.url, sim, `elean-mem-${n}${capped ? '-capped' : ''}`, capped ? [`--max-old-space-size=${CAPPED_OLD_SPACE_MB}`] : [])
      if (probe.status !== 'succeeded' || probe.seen !== n) throw new Error(`memory probe at ${n}: ${JSON.stringify(probe)}`)
      out[n] = probe
      sim.stop()
    }
    return out
  }
  const free = await probes(false)
  const mem: Record<string, number> = {}
  for (const n of [MEM_N, MEM_N * 10]) {
    mem[`peak_rss_growth_mb_at_${n}`] = free[n]?.peakMb ?? 0
    mem[`retained_heap_mb_at_${n}`] = free[n]?.retainedHeapMb ?? 0
  }
  line({
    figure: 'memory_slope',
    ...mem,
    peak_rss_ratio_10x: ratio(free[MEM_N]?.peakMb, free[MEM_N * 10]?.peakMb),
    retained_heap_ratio_10x: ratio(free[MEM_N]?.retainedHeapMb, free[MEM_N * 10]?.retainedHeapMb),
  })
  const capped = await probes(true)
  line({
    figure: 'memory_slope_capped',
    max_old_space_mb: CAPPED_OLD_SPACE_MB,
    [`peak_rss_growth_mb_at_${MEM_N}`]: capped[MEM_N]?.peakMb,
    [`peak_rss_growth_mb_at_${MEM_N * 10}`]: capped[MEM_N * 10]?.peakMb,
    peak_rss_ratio_10x: ratio(capped[MEM_N]?.peakMb, capped[MEM_N * 10]?.peakMb),
    // the capped run's time at 10·MEM_N over the uncapped one's: what the bound costs
    time_ratio_at_10x: ratio(free[MEM_N * 10]?.ms, capped[MEM_N * 10]?.ms),
  })
}

async function main(): Promise<void> {
  const db = await benchDatabase()
  const sims: SimProcess[] = []
  try {
    if (wanted('ingest')) await ingest(db, sims)
    if (wanted('elementum')) await elementumEmptyWindow(db, sims)
    // per vendor, children included: a full scan, a 1 %-changed poll and an idle poll; Elean's 429s at 60 a minute
    if (wanted('children')) for (const figure of await apiEfficiencyWithChildren({ n: API_N })) line(figure)
    if (wanted('memory')) await memorySlope(db, sims)
    // per-page cost over a first backfill, in a database of its own so the mirror starts empty
    if (wanted('backfill')) line(await backfillPageCost(BACKFILL_N, { logger, redactor }))
    if (wanted('attachment')) line(await attachmentStreamingRss(db.url, ATTACHMENT_MB))
    // seconds from a change in one simulator to its arrival in the other, the daemon polling every 5 s
    if (wanted('freshness')) line(await freshness({ changes: FRESHNESS_N, pollSeconds: 5 }))
    if (wanted('replicas')) line(await replicas({ n: REPLICAS_N }))
  } finally {
    for (const s of sims) s.stop()
    await db.drop()
  }
}

await main()
