/**
 * Figure `api_efficiency_children`: the requests of a poll, children included, divided by the
 * fewest that poll could make, per vendor (Elementum, Elean, AvePoint Elements, elastic.io),
 * for three polls in turn over BENCH_API_N records (default 1 000): a full scan into an empty
 * mirror, an incremental poll after 1 % of the records changed (their titles edited through
 * the simulator's control routes, which moves their updated time), and an idle poll (nothing
 * changed since the last one). The connections are built as the daemon builds them (the kind's
 * rate budget, `childBudget` and the 120 s lookback).
 *
 * The minimum of a poll's reads: the pages that list its changed records, 100 a page, plus the
 * child lists of each changed record.
 * - Elementum (tasks): at least one search of the window, ⌈changed / 100⌉ (the full scan
 *   ⌈N / 100⌉), plus comments, attachments and related items, 3 each.
 * - Elean (tasks), which has no updated-since filter: every page, ⌈N / 100⌉, plus comments,
 *   1 each, at most `commentsPerScan` a scan, the rest left to later polls by configuration and
 *   counted as `children_deferred`.
 * - AvePoint Elements (customers, `pageIndex`/`pageSize`) and elastic.io (a workspace's flows,
 *   `page[number]`/`page[size]`): neither API has an updated-since filter, so their connectors
 *   read every page on every poll: ⌈N / 100⌉ for all three polls, and no child lists (they
 *   mirror none, `childBudget` 0). Their lines say so with `note`, and `read_mode` is the mode
 *   the engine actually read in (`full` for all three).
 * The child round-robin's requests (`childBudget` unchanged records a poll) follow the reads
 * and are counted apart, as `child_budget_requests`: a configured budget, not reads a change
 * asked for. The token requests (Elementum `/oauth/token`, AvePoint `/connect/token`) are
 * counted apart as `auth_requests`; Elean (API key) and elastic.io (HTTP Basic) have none. A
 * request to a route the vendor does not declare as a page, a child list or a token fails
 * the run rather than being counted as a child.
 *
 * The idle poll's window reaches the lookback before the last poll, so it finds the records
 * the 1 % poll read again; `without_children_check_requests` is what the same poll costs when
 * the mirror is not asked whose children are current (the engine before issue 13's fix).
 *
 * Figure `self_inflicted_429`: 429 answers of the Elean simulator, its key limited to 60
 * requests a minute, over all of the Elean polls above (which need more than 60).
 *
 *   node --import tsx bench/api-children.ts      (alone; `npm run bench` runs it too)
 */
import { pathToFileURL } from 'node:url'
import { createConnector } from '../src/connectors/index.js'
import { type ConnectionConfig, connectorModule } from '../src/connectors/registry.js'
import { createPgMirror } from '../src/db/mirror.store.js'
import type { Connector, MirrorStore } from '../src/engine/ports.js'
import { runStream } from '../src/engine/poll.js'
import { createLogger, createRedactor } from '../src/logger.js'
import { startAvepoint } from '../src/sim/avepoint/index.js'
import { startElasticio } from '../src/sim/elasticio/index.js'
import { startElean } from '../src/sim/elean/index.js'
import { startElementum } from '../src/sim/elementum/index.js'
import type { SimStats } from '../src/sim/common/server.js'
import type { StartedSim } from '../src/sim/types.js'
import { benchDatabase, line, type BenchDb } from './support.js'

const redactor = createRedactor()
const logger = createLogger({ level: 'silent', redactor })
const PAGE = 100
const LOOKBACK_MS = 120_000

type Mode = 'full' | 'changed_1pct' | 'idle'

/** One vendor under test: its simulator, its connection, and what a changed record's children cost. */
interface Vendor {
  name: 'elementum' | 'elean' | 'avepoint' | 'elasticio'
  sim: StartedSim
  connector: Connector
  childBudget: number
  /** The route of the listing pages (Elementum searches, Elean task pages, AvePoint customer pages, elastic.io flow pages), as `stats().byRoute` names it. */
  pageRoute: string
  /** The routes of the child lists (counted as children) and of the token requests (counted apart); any other route is an error. */
  childRoutes: readonly string[]
  authRoutes: readonly string[]
  /** Child lists read per changed record. */
  childCost: number
  /** Changed records whose children a scan reads with its pages; the rest wait (Elean `commentsPerScan`). */
  childCap: number
  /** Fewest listing pages a poll needs to find `changed` of `n` records. */
  pagesMin: (mode: Mode, n: number, changed: number) => number
  /** The control route by which a person edits a record, and the body that changes its title (moving its updated time). */
  editPath: (remoteId: string) => string
  editBody: (title: string) => object
  /** Lets time pass on the vendor's clock between polls (its cursor has one-second resolution). */
  tick: () => void
  /** Why the vendor's polls are not what their mode says (no incremental read, no children), added to its lines as `note`. */
  note?: string
}

interface Counts {
  pages: number
  children: number
  auth: number
}

/** The requests between two stats of `v`'s simulator, by kind; a route the vendor does not declare is an error, not a child. */
function countsBetween(a: SimStats, b: SimStats, v: Vendor): Counts {
  const out: Counts = { pages: 0, children: 0, auth: 0 }
  for (const [route, byStatus] of Object.entries(b.byRoute)) {
    const n = Object.entries(byStatus).reduce((sum, [status, k]) => sum + k - (a.byRoute[route]?.[status] ?? 0), 0)
    if (n === 0) continue
    if (route === v.pageRoute) out.pages += n
    else if (v.authRoutes.includes(route)) out.auth += n
    else if (v.childRoutes.includes(route)) out.children += n
    else throw new Error(`${v.name}: ${n} requests to ${route}, neither a page, a child list nor a token`)
  }
  return out
}

/** One poll of the stream: the requests of its reads, and those of the round-robin after them. */
async function poll(mirror: MirrorStore, v: Vendor, mode: 'full' | 'incremental', childBudget = v.childBudget) {
  const stats = () => v.sim.server.stats()
  const start = stats()
  let afterReads = start
  const result = await runStream(mirror, {
    stream: { connection: v.name, stream: 'bench' },
    connector: v.connector,
    mode,
    signal: AbortSignal.timeout(600_000),
    lookbackMs: LOOKBACK_MS,
    maxDeleteFraction: 0.1,
    childBudget,
    // the last page is saved after its reads and before the round-robin starts
    onPage: () => {
      afterReads = stats()
    },
  })
  if (result.status !== 'succeeded') throw new Error(`${v.name} ${mode} poll: ${JSON.stringify(result.error)}`)
  const end = stats()
  return { result, reads: countsBetween(start, afterReads, v), budget: countsBetween(afterReads, end, v) }
}

function figure(v: Vendor, mode: Mode, n: number, changed: number, p: Awaited<ReturnType<typeof poll>>, extra: object = {}): object {
  const withChildren = Math.min(changed, v.childCap)
  const minimum = v.pagesMin(mode, n, changed) + withChildren * v.childCost
  const reads = p.reads.pages + p.reads.children
  return {
    figure: 'api_efficiency_children',
    vendor: v.name,
    mode,
    n,
    changed,
    seen: p.result.seen,
    page_requests: p.reads.pages,
    child_requests: p.reads.children,
    reads,
    minimum,
    ratio: +(reads / minimum).toFixed(3),
    ...(changed > withChildren ? { children_deferred: changed - withChildren } : {}),
    child_budget: v.childBudget,
    child_budget_requests: p.budget.pages + p.budget.children,
    auth_requests: p.reads.auth + p.budget.auth,
    ...extra,
    // the mode the engine read in: a connector without an incremental read scans in full
    ...(v.note !== undefined ? { read_mode: p.result.mode, note: v.note } : {}),
  }
}

/** The records to change: 1 % of the stream, at least one, as the mirror knows them. */
async function onePercent(db: BenchDb, v: Vendor, n: number): Promise<string[]> {
  const rows = await db.sql<{ remote_id: string }[]>`
    select remote_id from elsync.records where connection = ${v.name} and stream = 'bench' order by id limit ${Math.max(1, Math.floor(n / 100))}`
  return rows.map((r) => r.remote_id)
}

async function control(url: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${url}/_sim${path}`, { method: 'POST', body: JSON.stringify(body) })
  if (!res.ok) throw new Error(`control ${path}: ${res.status} ${await res.text()}`)
}

/** A connection as the daemon builds it, with the kind's defaults where the config is silent. */
function connectionOf(raw: { kind: ConnectionConfig['kind'] } & Record<string, unknown>) {
  const module = connectorModule(raw.kind)
  const config = module.connectionSchema.parse(raw) as ConnectionConfig
  return {
    connector: createConnector(raw.kind, config, { logger, redactor }),
    childBudget: config.childBudget ?? module.defaults.childBudget ?? 0,
    commentsPerScan: (config as { commentsPerScan?: number }).commentsPerScan,
  }
}

async function elementumVendor(n: number): Promise<Vendor> {
  const sim = await startElementum({ port: 0 })
  await control(sim.server.url, '/seed', { alias: 'bench', count: n })
  const c = sim.credentials
  const { connector, childBudget } = connectionOf({
    kind: 'elementum',
    baseUrl: sim.baseUrl,
    auth: { mode: 'oauth2-client-credentials', clientId: c.clientId, clientSecret: c.clientSecret, tokenUrl: c.tokenUrl },
    streams: { bench: { recordType: 'tasks', alias: 'bench' } },
  })
  return {
    ...{ name: 'elementum', sim, connector, childBudget, pageRoute: 'GET /v1/:recordType/:alias', childCost: 3, childCap: Number.POSITIVE_INFINITY },
    childRoutes: ['comment', 'attachments', 'related-items'].map((list) => `GET /v1/:recordType/:alias/:id/${list}`),
    authRoutes: ['POST /oauth/token'],
    pagesMin: (mode, n, changed) => Math.max(1, Math.ceil((mode === 'full' ? n : changed) / PAGE)),
    editPath: (id) => `/records/tasks/bench/${id}/edit`,
    editBody: (title) => ({ Title: title }),
    tick: () => sim.server.clock.advance(1_000),
  }
}

async function eleanVendor(n: number): Promise<Vendor> {
  const sim = await startElean({ port: 0, perMinute: 60 })
  sim.store.seed('bench', n, 1)
  const auth = { mode: 'bearer', token: sim.credentials.apiKey }
  const { connector, childBudget, commentsPerScan } = connectionOf({ kind: 'elean', baseUrl: sim.baseUrl, auth, streams: { bench: { project: 'bench' } } })
  return {
    ...{ name: 'elean', sim, connector, childBudget, pageRoute: 'GET /v1/public/:project/tasks', childCost: 1, childCap: commentsPerScan ?? 20 },
    childRoutes: ['GET /v1/public/:project/tasks/:taskId/comments'],
    authRoutes: [],
    pagesMin: (_mode, n) => Math.max(1, Math.ceil(n / PAGE)),
    editPath: (id) => `/tasks/bench/${id}/edit`,
    editBody: (title) => ({ title }),
    // Elean's rate window is on the simulator's clock: moving it would hide self-inflicted 429s
    tick: () => {},
  }
}

/** What the AvePoint and elastic.io lines say: their connectors read every page on every poll and mirror no children. */
const FULL_SCAN_NOTE =
  'no updated-since filter (connector reads every page on every poll, as a full scan) and no child lists: the 1 % and idle polls cost the full scan'

async function avepointVendor(n: number): Promise<Vendor> {
  const sim = await startAvepoint({ port: 0 })
  // N customers and nothing else: the stream reads customers
  await control(sim.server.url, '/seed', { customers: n, tenantsPerCustomer: 0, usersPerTenant: 0, services: 0 })
  const c = sim.credentials
  const { connector, childBudget } = connectionOf({
    kind: 'avepoint',
    baseUrl: sim.baseUrl,
    auth: { mode: 'oauth2-client-credentials', clientId: c.clientId, clientSecret: c.clientSecret, tokenUrl: c.tokenUrl, scope: c.scope, clientAuth: 'body' },
    streams: { bench: { resource: 'customers' } },
  })
  return {
    ...{ name: 'avepoint', sim, connector, childBudget, pageRoute: 'GET /partner/external/v3/general/customers', childCost: 0 },
    ...{ childCap: Number.POSITIVE_INFINITY, childRoutes: [], authRoutes: ['POST /connect/token'] },
    // no modified-since filter: every poll reads every page (pageIndex/pageSize, 100 a page)
    pagesMin: (_mode, n) => Math.max(1, Math.ceil(n / PAGE)),
    editPath: (id) => `/edit/customers/${id}`,
    editBody: (title) => ({ fields: { customerName: title } }),
    tick: () => sim.server.clock.advance(1_000),
    note: FULL_SCAN_NOTE,
  }
}

async function elasticioVendor(n: number): Promise<Vendor> {
  const sim = await startElasticio({ port: 0 })
  // N flows and nothing else: the stream reads the workspace's flows
  await control(sim.server.url, '/seed', { flows: n })
  const { connector, childBudget } = connectionOf({
    kind: 'elasticio',
    baseUrl: sim.baseUrl,
    auth: { mode: 'basic', username: sim.credentials.email, password: sim.credentials.apiKey },
    streams: { bench: { resource: 'flows', workspaceId: sim.store.workspaceId } },
  })
  return {
    ...{ name: 'elasticio', sim, connector, childBudget, pageRoute: 'GET /v2/:resource', childCost: 0 },
    // HTTP Basic on every request: no token route
    ...{ childCap: Number.POSITIVE_INFINITY, childRoutes: [], authRoutes: [] },
    // no modified-since filter: every poll reads every page (page[number]/page[size], 100 a page)
    pagesMin: (_mode, n) => Math.max(1, Math.ceil(n / PAGE)),
    editPath: (id) => `/edit/flows/${id}`,
    editBody: (title) => ({ attributes: { name: title } }),
    tick: () => sim.server.clock.advance(1_000),
    note: FULL_SCAN_NOTE,
  }
}

/** The three polls of one vendor, in turn, on a mirror of their own. */
async function vendorFigures(db: BenchDb, v: Vendor, n: number): Promise<object[]> {
  const mirror = createPgMirror(db.sql)
  const out: object[] = []
  out.push(figure(v, 'full', n, n, await poll(mirror, v, 'full')))
  v.tick()
  const changed = await onePercent(db, v, n)
  for (const [i, id] of changed.entries()) await control(v.sim.server.url, v.editPath(id), v.editBody(`Edited ${i + 1}`))
  v.tick()
  out.push(figure(v, 'changed_1pct', n, changed.length, await poll(mirror, v, 'incremental')))
  v.tick()
  const idle = await poll(mirror, v, 'incremental')
  v.tick()
  // the same idle poll, the mirror not asked whose children are current: what the lookback cost before
  const { childrenBehind: _asked, ...unasked } = mirror
  const before = await poll(unasked, v, 'incremental')
  out.push(figure(v, 'idle', n, 0, idle, { without_children_check_requests: before.reads.pages + before.reads.children }))
  return out
}

export async function apiEfficiencyWithChildren(opts: { n: number }): Promise<object[]> {
  const db = await benchDatabase()
  const vendors: Vendor[] = []
  try {
    const out: object[] = []
    const elementum = await elementumVendor(opts.n)
    vendors.push(elementum)
    out.push(...(await vendorFigures(db, elementum, opts.n)))
    const elean = await eleanVendor(opts.n)
    vendors.push(elean)
    const t0 = performance.now()
    out.push(...(await vendorFigures(db, elean, opts.n)))
    const stats = elean.sim.server.stats()
    const limited = Object.values(stats.byRoute).reduce((sum, byStatus) => sum + (byStatus['429'] ?? 0), 0)
    out.push({
      figure: 'self_inflicted_429',
      vendor: 'elean',
      per_minute: 60,
      requests: stats.total,
      responses_429: limited,
      seconds: Math.round((performance.now() - t0) / 1000),
    })
    for (const start of [avepointVendor, elasticioVendor]) {
      const v = await start(opts.n)
      vendors.push(v)
      out.push(...(await vendorFigures(db, v, opts.n)))
    }
    return out
  } finally {
    for (const v of vendors) await v.sim.close()
    await db.drop()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const l of await apiEfficiencyWithChildren({ n: Number(process.env.BENCH_API_N ?? 1_000) })) line(l)
}
