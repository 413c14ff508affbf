import { readFile } from 'node:fs/promises'
import { parse as parseYaml } from 'yaml'
import { afterAll, describe, expect, it } from 'vitest'
import { type App, createApp } from '../../src/app.js'
import type { EnvSettings } from '../../src/config/env.js'
import { type Config, mappingFileSchema } from '../../src/config/schema.js'
import { formatAttribution } from '../../src/engine/attribution.js'
import { type StartedElean, startElean } from '../../src/sim/elean/index.js'
import { type StartedElementum, startElementum } from '../../src/sim/elementum/index.js'
import { seedActivity, seedNamespace } from '../../src/sim/elementum/seed.js'
import { createTestDb, type TestDb } from '../support/db.js'
import { captureLogs } from '../support/logs.js'
import { simConnections, writesServed } from '../support/sync.world.js'

/**
 * Comments across Elementum ↔ Elean through the example mapping (`comments: both`): each human
 * comment is copied once to the counterpart, attributed, and nothing comes back. Both
 * simulators, a real Postgres, poll → reconcile → push as `elsync sync` does it.
 */

interface World {
  db: TestDb
  elementum: StartedElementum
  elean: StartedElean
  app: App
  logs: ReturnType<typeof captureLogs>
}

const worlds: World[] = []
afterAll(async () => {
  for (const w of worlds) await Promise.all([w.elementum.close(), w.elean.close()])
})

async function startWorld(mappingOver: Record<string, unknown> = {}): Promise<World> {
  const db = await createTestDb()
  const elementum = await startElementum({ port: 0, seed: 7 })
  const elean = await startElean({ port: 0, seed: 7, perMinute: 0 })
  seedNamespace(elementum.store, 'tasks', 'it-requests', 6, 7)
  // comments on most records (from the web UI and from workflows), as people would have left them
  seedActivity(elementum.store, elementum.store.namespace('tasks', 'it-requests')!, 7, { comments: 0.8, attachments: 0, related: 0 })
  elean.store.seed('web', 5, 7)
  const logs = captureLogs([elean.credentials.apiKey!, elementum.credentials.clientSecret!])
  // the default child budgets (Elementum 50, Elean 20) cover every record of these small streams on every poll
  const connections = simConnections({ elementum, elean })
  const mapping = mappingFileSchema.parse({ ...parseYaml(await readFile('mappings/it-requests.mapping.yaml', 'utf8')), ...mappingOver })
  const config: Config = { dir: '.', connections, mappings: [mapping] }
  const env: EnvSettings = { databaseUrl: db.url, configDir: '.', adminPort: 0, logLevel: 'debug', dataDir: '.elsync' }
  const app = createApp({ env, config, logger: logs.logger, redactor: logs.redactor }, { db })
  const w = { db, elementum, elean, app, logs }
  worlds.push(w)
  return w
}

const writeCount = (w: World) => writesServed(w)

/** One `elsync sync`: poll both streams, reconcile, push. */
async function cycle(w: World) {
  const signal = AbortSignal.timeout(120_000)
  const polled = await w.app.pollPass({ mode: 'incremental', signal })
  for (const r of polled) expect(r.status, `${r.stream.connection}: ${JSON.stringify(r.error)}`).toBe('succeeded')
  const reconciled = await w.app.reconcilePass({ signal })
  for (const r of reconciled) expect(r.error, JSON.stringify(r.error)).toBeNull()
  const pushed = await w.app.executor.drain(signal)
  expect(pushed.dead, w.logs.text().slice(-3000)).toBe(0)
  return { polled, reconciled, pushed }
}

/** Every comment's text on each side, straight from the vendors: record id → texts, in their order. */
function vendorComments(w: World): { left: Map<string, string[]>; right: Map<string, string[]> } {
  const ns = w.elementum.store.namespace('tasks', 'it-requests')!
  const project = w.elean.store.project('web')!
  return {
    left: new Map(ns.order.map((seq) => ns.bySeq.get(seq)!).map((r) => [r.data.id as string, r.comments.map((c) => c.contents)])),
    right: new Map(project.topLevel.map((t) => [t.id, t.comments.map((c) => c.content)])),
  }
}

const links = (w: World) =>
  w.db.sql<{ l: string; r: string }[]>`select left_remote_id as l, right_remote_id as r from elsync.links where mapping_id = 'it-requests' order by link_id`

/** The human comments the mirror holds for one record, oldest first. */
const natives = (w: World, connection: string, remoteId: string) =>
  w.db.sql<{ body: string; author: string | null }[]>`
    select body, author from elsync.comments where connection = ${connection} and remote_id = ${remoteId} and origin = 'native'
    order by created_at, comment_id`

const count = (list: readonly string[], text: string) => list.filter((t) => t.trim() === text.trim()).length

describe('comments, Elementum ↔ Elean', () => {
  it('copies every human comment once to the counterpart, attributed and oldest first, and nothing comes back', { timeout: 240_000 }, async () => {
    const w = await startWorld()
    await cycle(w)
    await cycle(w)
    const pairs = await links(w)
    // every Elean task, and every Elementum record the mapping's filter lets in (not Cancelled), has its counterpart
    const ns = w.elementum.store.namespace('tasks', 'it-requests')!
    expect(pairs.length).toBe(ns.order.filter((seq) => ns.bySeq.get(seq)!.data.Status !== 'Cancelled').length)
    expect(pairs.length).toBe(w.elean.store.project('web')!.topLevel.length)
    const now = vendorComments(w)
    let copied = 0
    for (const { l, r } of pairs) {
      const left = now.left.get(l)!
      const right = now.right.get(r)!
      const fromLeft = (await natives(w, 'elementum', l)).map((c) => formatAttribution(c.body, c.author, 'Elementum'))
      const fromRight = (await natives(w, 'elean', r)).map((c) => formatAttribution(c.body, c.author, 'Elean'))
      // each original exactly once on the other side, in the order they were written
      for (const text of fromLeft) expect([l, text, count(right, text)]).toEqual([l, text, 1])
      for (const text of fromRight) expect([r, text, count(left, text)]).toEqual([r, text, 1])
      expect(right.filter((t) => fromLeft.some((f) => f.trim() === t.trim()))).toEqual(fromLeft.map((f) => f.trim()))
      // and nothing else: the originals plus the other side's copies, no copy of a copy
      expect(left.length).toBe((await natives(w, 'elementum', l)).length + fromRight.length)
      expect(right.length).toBe((await natives(w, 'elean', r)).length + fromLeft.length)
      copied += fromLeft.length + fromRight.length
    }
    expect(copied).toBeGreaterThan(0)

    // analysts see which are copies, on both vendors
    const origins = await w.db.sql<{ connection: string; origin: string; n: number }[]>`
      select connection, origin, count(*)::int as n from elsync.comments group by connection, origin order by connection, origin`
    const [links_] = await w.db.sql<{ n: number }[]>`select count(*)::int as n from elsync.comment_links where target_comment_id is not null`
    expect(origins.filter((o) => o.origin === 'synced').reduce((n, o) => n + o.n, 0)).toBe(copied)
    expect(new Set(origins.map((o) => o.connection))).toEqual(new Set(['elementum', 'elean']))
    expect(links_?.n).toBe(copied)

    const before = writeCount(w)
    await cycle(w)
    expect(writeCount(w) - before).toBe(0)
  })

  it('brings a new human comment on either side across exactly once in one sync; three more syncs change nothing', { timeout: 240_000 }, async () => {
    const w = await startWorld()
    await cycle(w)
    await cycle(w)
    const [pair] = await links(w)
    const { l, r } = pair!
    const control = async (base: string, path: string, body: unknown) => {
      const res = await fetch(`${base}/_sim${path}`, { method: 'POST', body: JSON.stringify(body) })
      expect(res.status, path).toBeLessThan(300)
    }
    // neither comment moves its record's timestamp: only the child round-robin finds them
    await control(w.elementum.server.url, `/records/tasks/it-requests/${l}/comments`, {
      contents: 'The printer is back.\nToner replaced.',
      author: 'grace.hopper@example.com',
    })
    await control(w.elean.server.url, `/tasks/web/${r}/comments`, { content: 'Thanks, confirmed on floor 3', authorName: 'Mei Tanaka' })

    // the dry run names the copies it would write
    await w.app.pollPass({ mode: 'incremental', signal: AbortSignal.timeout(60_000) })
    const [planned] = await w.app.reconcilePass({ signal: AbortSignal.timeout(60_000), dryRun: true })
    expect(planned?.summary?.plan.filter((line) => line.startsWith('comment '))).toEqual([
      expect.stringMatching(new RegExp(`^comment elean ${r} ← elementum ${l} comment `)),
      expect.stringMatching(new RegExp(`^comment elementum ${l} ← elean ${r} comment `)),
    ])

    const first = await cycle(w)
    expect(first.pushed.sent).toBe(2)
    const toElean = 'The printer is back.\nToner replaced.\n\n— Grace Hopper via Elementum'
    const toElementum = 'Thanks, confirmed on floor 3\n\n— Mei Tanaka via Elean'
    let now = vendorComments(w)
    expect(count(now.right.get(r)!, toElean)).toBe(1)
    expect(count(now.left.get(l)!, toElementum)).toBe(1)

    const settled = { writes: writeCount(w), comments: vendorComments(w) }
    for (let i = 0; i < 3; i++) await cycle(w)
    now = vendorComments(w)
    expect(now).toEqual(settled.comments)
    expect(writeCount(w) - settled.writes).toBe(0)
    const [copies] = await w.db.sql<{ n: number }[]>`select count(*)::int as n from elsync.outbox where op = 'comment' and state <> 'sent'`
    expect(copies?.n).toBe(0)
  })

  it('never copies back a copy whose footer a human removed, and the view still calls it synced', { timeout: 240_000 }, async () => {
    const w = await startWorld()
    await cycle(w)
    await cycle(w)
    // a copy on Elean, edited by a human to drop the footer (Elean has no `source` to tell it by)
    const project = w.elean.store.project('web')!
    const task = project.topLevel.find((t) => t.comments.some((c) => c.content.includes(' via Elementum')))!
    const copy = task.comments.find((c) => c.content.includes(' via Elementum'))!
    copy.content = copy.content.slice(0, copy.content.lastIndexOf('\n\n— '))
    const before = writeCount(w)
    await cycle(w)
    await cycle(w)
    expect(writeCount(w) - before).toBe(0)
    const [row] = await w.db.sql<{ body: string; origin: string }[]>`
      select body, origin from elsync.comments where connection = 'elean' and comment_id = ${copy.id}`
    expect(row).toEqual({ body: copy.content, origin: 'synced' })
  })

  it('copies only the way the mapping says: left-to-right leaves Elean comments where they are', { timeout: 240_000 }, async () => {
    const w = await startWorld({ comments: 'left-to-right' })
    await cycle(w)
    await cycle(w)
    const now = vendorComments(w)
    const elementumTexts = [...now.left.values()].flat()
    const eleanTexts = [...now.right.values()].flat()
    expect(elementumTexts.some((t) => t.includes(' via Elean'))).toBe(false)
    expect(eleanTexts.some((t) => t.includes(' via Elementum'))).toBe(true)
    const [rows] = await w.db.sql<{ right: number }[]>`select count(*)::int as right from elsync.comment_links where source_side = 'right'`
    expect(rows?.right).toBe(0)
  })
})
