import type { Failpoint } from '../../src/app.js'
import { elsyncSync as spawnSync } from '../support/sync.world.js'
import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startElean } from '../../src/sim/elean/index.js'
import { startElementum } from '../../src/sim/elementum/index.js'
import { createTestDb, type TestDb } from '../support/db.js'
import { writeSimConfig } from '../support/sim.config.js'
import { vendorWrites } from '../support/sync-cycle.js'

/**
 * `elsync sync` SIGKILLed right after an attachment reached its target (ELSYNC_FAILPOINT
 * push:after-send on an `attachment` row), then run again: the copy is found on the target
 * (Elean: by name and size; Elementum: by the marker in its description) and not uploaded
 * a second time, and nothing is copied back.
 */
const MB = 1024 * 1024
const dbs = { 'elementum → elean': await createTestDb(), 'elean → elementum': await createTestDb() }
const dirs: string[] = []
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

const MAPPING = `id: it-requests
left: { connection: elementum, stream: it-requests }
right: { connection: elean, stream: web }
create: both
fields:
  - { left: Title, right: title }
attachments: { direction: both, oversize: link }
`

const elsyncSync = (env: NodeJS.ProcessEnv, failpoint?: Failpoint) => spawnSync(env, failpoint)

const sha = (b: Uint8Array | undefined) => (b ? createHash('sha256').update(b).digest('hex') : null)

describe('a crash during an attachment copy, then sync again', () => {
  it.each(Object.keys(dbs) as (keyof typeof dbs)[])('%s: the file arrives once, nothing is copied back', { timeout: 240_000 }, async (direction) => {
    const db: TestDb = dbs[direction]
    const elementum = await startElementum({ port: 0, seed: 6, processingMs: 300 })
    const elean = await startElean({ port: 0, seed: 6, perMinute: 0 })
    try {
      const ns = elementum.store.ensureNamespace('tasks', 'it-requests')
      const project = elean.store.ensureProject('web')
      const file = Buffer.from(
        createHash('sha512')
          .update(direction)
          .digest()
          .toString('hex')
          .repeat((2 * MB) / 128),
      )
      const fromElementum = direction === 'elementum → elean'
      if (fromElementum) {
        const record = elementum.store.create(ns, { Title: 'Projector flickers' })
        const now = elementum.store.clock.now()
        record.attachments.push({
          ...{ seq: elementum.store.nextSeq(), id: 'a1', name: 'flicker.mp4', description: '', mediaType: 'video/mp4' },
          ...{ size: file.length, viewState: 'PRIVATE', createdAt: new Date(now).toISOString(), readyAtMs: now, content: file },
        })
      } else {
        const task = elean.store.createTask(project, { title: 'Projector flickers' })
        elean.store.addAttachment(task, { filename: 'flicker.mp4', mimeType: 'video/mp4', data: file })
      }
      const dir = await mkdtemp(join(tmpdir(), 'elsync-attach-crash-'))
      dirs.push(dir)
      await writeFile(join(dir, 'it-requests.mapping.yaml'), MAPPING)
      const simEnv = await writeSimConfig(dir, { elementum, elean }, { elean: { commentsPerScan: 0 } })
      const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'info', ...simEnv }
      delete env.ELSYNC_FAILPOINT

      // the records are linked first (a copy waits for both ends), so the next run's first row is the copy
      const linked = await elsyncSync(env)
      expect(linked.code, linked.output.slice(-3000)).toBe(0)
      const [queued] = await db.sql<{ n: number }[]>`select count(*)::int as n from elsync.outbox where op = 'attachment'`
      expect(queued?.n).toBe(0)

      const killed = await elsyncSync(env, 'push:after-send')
      expect(killed.signal, killed.output.slice(-3000)).toBe('SIGKILL')
      const [row] = await db.sql<{ op: string; state: string }[]>`select op, state from elsync.outbox where op = 'attachment'`
      expect(row).toEqual({ op: 'attachment', state: 'pending' })
      // one record on each side: the original and the one the first run created
      const onElean = () => project.topLevel.filter((t) => t.title === 'Projector flickers').map((t) => t.attachments.map((a) => a.data))
      const onElementum = () =>
        ns.order
          .map((seq) => ns.bySeq.get(seq)!)
          .filter((r) => r.data.Title === 'Projector flickers')
          .map((r) => r.attachments.map((a) => a.content))
      expect([onElean().length, onElementum().length]).toEqual([1, 1])
      const copiesOnTarget = () => (fromElementum ? onElean() : onElementum())[0] ?? []
      // it reached the target before the process died
      expect(copiesOnTarget().length).toBe(1)

      const again = await elsyncSync(env)
      expect(again.code, again.output.slice(-3000)).toBe(0)
      const settled = vendorWrites(elementum.server.stats()) + vendorWrites(elean.server.stats())
      const quiet = await elsyncSync(env)
      expect(quiet.code, quiet.output.slice(-3000)).toBe(0)
      expect(vendorWrites(elementum.server.stats()) + vendorWrites(elean.server.stats()) - settled, quiet.output.slice(-3000)).toBe(0)

      const copies = copiesOnTarget()
      expect(copies.length).toBe(1)
      expect(sha(copies[0])).toBe(sha(file))
      // and the original side still has only its own file
      expect(((fromElementum ? onElementum() : onElean())[0] ?? []).length).toBe(1)
      const states = await db.sql<{ state: string; reason: string | null }[]>`select state, reason from elsync.attachment_copies`
      expect(states).toEqual([{ state: 'copied', reason: 'found on the target (copied by an earlier attempt)' }])
      const [unsent] = await db.sql<{ n: number }[]>`select count(*)::int as n from elsync.outbox where state <> 'sent'`
      expect(unsent?.n).toBe(0)
    } finally {
      await Promise.all([elementum.close(), elean.close()])
    }
  })
})
