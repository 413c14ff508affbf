import type { Failpoint } from '../../src/app.js'
import { copyFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startElean } from '../../src/sim/elean/index.js'
import { seedNamespace, startElementum } from '../../src/sim/elementum/index.js'
import { createTestDb } from '../support/db.js'
import { writeSimConfig } from '../support/sim.config.js'
import { elsyncSync, writesServed } from '../support/sync.world.js'

/**
 * `elsync sync` SIGKILLed right after a comment copy reached the vendor and before its outbox
 * row was marked sent (ELSYNC_FAILPOINT=push:after-send on a comment row), then run again: the
 * copy is found on the target by its text and footer, never posted twice.
 */

const db = await createTestDb()
const elementum = await startElementum({ port: 0, seed: 11 })
const elean = await startElean({ port: 0, seed: 11, perMinute: 0 })
const dir = await mkdtemp(join(tmpdir(), 'elsync-comments-crash-'))
afterAll(async () => {
  await Promise.all([elementum.close(), elean.close()])
  await rm(dir, { recursive: true, force: true })
})
seedNamespace(elementum.store, 'tasks', 'it-requests', 4, 11)
elean.store.seed('web', 3, 11)
await copyFile('mappings/it-requests.mapping.yaml', join(dir, 'it-requests.mapping.yaml'))
const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'info', ...(await writeSimConfig(dir, { elementum, elean })) }
delete env.ELSYNC_FAILPOINT

const sync = (failpoint?: Failpoint) => elsyncSync(env, failpoint)
const writeCount = () => writesServed({ elementum, elean })

describe('a comment copy cut short by SIGKILL', () => {
  it('is found on the target when the sync runs again: no duplicate either way, and the next sync is quiet', { timeout: 300_000 }, async () => {
    // link everything and let the seeded values settle, until a sync writes nothing
    for (let i = 0, before = -1; before !== writeCount(); i++) {
      expect(i, 'the seeded world does not settle').toBeLessThan(5)
      before = writeCount()
      const run = await sync()
      expect(run.code, run.output.slice(-3000)).toBe(0)
    }
    const [pair] = await db.sql<{ l: string; r: string }[]>`
      select left_remote_id as l, right_remote_id as r from elsync.links where mapping_id = 'it-requests' order by link_id limit 1`
    const record = elementum.store.find('tasks', 'it-requests', pair!.l)!
    const task = elean.store.findTask(elean.store.project('web')!, pair!.r)!
    elementum.store.addComment(record, {
      contents: 'Replaced the fuser unit',
      source: 'WEB',
      author: { id: 'u1', firstName: 'Grace', lastName: 'Hopper', email: 'grace.hopper@example.com' },
    })
    elean.store.addComment(task, 'Works again, thanks', 'Mei Tanaka')
    const toElean = 'Replaced the fuser unit\n\n— Grace Hopper via Elementum'
    const toElementum = 'Works again, thanks\n\n— Mei Tanaka via Elean'
    const onElean = () => task.comments.filter((c) => c.content.trim() === toElean).length
    const onElementum = () => record.comments.filter((c) => c.contents.trim() === toElementum).length

    // killed right after the first copy was posted, before the row was marked sent
    const killed = await sync('push:after-send')
    expect(killed.signal, killed.output.slice(-3000)).toBe('SIGKILL')
    expect(onElean() + onElementum()).toBe(1)
    // both copies were claimed (one lane per connection), one of them posted, neither marked
    const [inFlight] = await db.sql<{ n: number }[]>`select count(*)::int as n from elsync.outbox where op = 'comment' and state = 'pending' and attempts = 1`
    expect(inFlight?.n).toBe(2)

    // the dead process's claims run out (2 s) and the next sync takes them over
    const again = await sync()
    expect(again.code, again.output.slice(-3000)).toBe(0)
    expect([onElean(), onElementum()]).toEqual([1, 1])
    const rows = await db.sql<{ state: string; attempts: number; target: string | null }[]>`
      select o.state, o.attempts, k.target_comment_id as target from elsync.outbox o join elsync.comment_links k on k.outbox_id = o.id
      where o.op = 'comment' and o.created_at > now() - interval '5 minutes' order by o.id desc limit 2`
    expect(rows.map((r) => r.state)).toEqual(['sent', 'sent'])
    expect(rows.every((r) => r.target !== null)).toBe(true)
    const excerpts = await db.sql<
      { excerpt: string }[]
    >`select response_excerpt as excerpt from elsync.writes where op = 'comment' order by write_id desc limit 2`
    expect(excerpts.map((e) => JSON.parse(e.excerpt).childId).sort()).toEqual(rows.map((r) => r.target).sort())
    // the second attempt of each looked for its copy first: found for the one posted before the kill
    expect(rows.map((r) => r.attempts)).toEqual([2, 2])

    const settled = writeCount()
    const quiet = await sync()
    expect(quiet.code, quiet.output.slice(-3000)).toBe(0)
    expect(writeCount() - settled).toBe(0)
    expect([onElean(), onElementum()]).toEqual([1, 1])
  })
})
