import { createHash, randomUUID } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { type App, createApp } from '../../src/app.js'
import type { EnvSettings } from '../../src/config/env.js'
import { type Config, connectionsFileSchema, mappingFileSchema } from '../../src/config/schema.js'
import { eleanSimConnection, elementumSimConnection } from '../../src/sim/connections.js'
import { startElean } from '../../src/sim/elean/index.js'
import { startElementum } from '../../src/sim/elementum/index.js'
import type { ElementumRecord } from '../../src/sim/elementum/store.js'
import { createTestDb } from '../support/db.js'
import { captureLogs } from '../support/logs.js'
import { syncCycle, vendorWrites } from '../support/sync-cycle.js'

/**
 * Attachments copied between linked records by the sync cycle (poll → reconcile → push),
 * against both simulators: byte-identical both ways, the `oversize` policy for a file Elean
 * cannot take (link and skip), Elementum → Elementum between two aliases, nothing copied back,
 * and an expired presigned URL fetched again.
 */
const MB = 1024 * 1024
const db = await createTestDb()
const elementum = await startElementum({ port: 0, seed: 4, processingMs: 300 })
const elean = await startElean({ port: 0, seed: 4, perMinute: 0 })
afterAll(async () => {
  await Promise.all([elementum.close(), elean.close()])
})
for (const alias of ['ops', 'infra', 'big', 'mirror']) elementum.store.ensureNamespace('tasks', alias)
for (const project of ['web', 'docs']) elean.store.ensureProject(project)

const logs = captureLogs([elean.credentials.apiKey!, elementum.credentials.clientSecret!])
const { connections } = connectionsFileSchema.parse({
  connections: {
    elementum: elementumSimConnection(elementum, ['ops', 'infra', 'big', 'mirror']),
    elean: eleanSimConnection(elean, ['web', 'docs']),
  },
})
const mapping = (id: string, left: string, right: [string, string], create: string, attachments: object) =>
  mappingFileSchema.parse({
    id,
    left: { connection: 'elementum', stream: left },
    right: { connection: right[0], stream: right[1] },
    create,
    fields: [{ left: 'Title', right: right[0] === 'elean' ? 'title' : 'Title' }],
    attachments,
  })
const config: Config = {
  dir: '.',
  connections,
  mappings: [
    mapping('ops-web', 'ops', ['elean', 'web'], 'both', { direction: 'both', oversize: 'link' }),
    mapping('infra-docs', 'infra', ['elean', 'docs'], 'left-to-right', { direction: 'left-to-right', oversize: 'skip' }),
    mapping('big-mirror', 'big', ['elementum', 'mirror'], 'left-to-right', { direction: 'left-to-right', oversize: 'skip' }),
  ],
}
const env: EnvSettings = { databaseUrl: db.url, configDir: '.', adminPort: 0, logLevel: 'debug', dataDir: '.elsync' }
const app: App = createApp({ env, config, logger: logs.logger, redactor: logs.redactor }, { db })

/** `size` deterministic bytes. */
function bytes(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size)
  let x = seed
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}
const sha = (b: Uint8Array | undefined) => (b ? createHash('sha256').update(b).digest('hex') : null)

function attachToElementum(record: ElementumRecord, name: string, content: Buffer, mediaType = 'application/octet-stream') {
  const now = elementum.store.clock.now()
  record.attachments.push({
    seq: elementum.store.nextSeq(),
    id: randomUUID(),
    name,
    description: '',
    mediaType,
    size: content.length,
    viewState: 'PRIVATE',
    createdAt: new Date(now).toISOString(),
    readyAtMs: now,
    content,
  })
}

const writeCount = () => vendorWrites(elementum.server.stats()) + vendorWrites(elean.server.stats())
/** One `elsync sync`, every stream read in full (a file added to an unchanged record is read). */
const cycle = () => syncCycle(app, { mode: 'full', timeoutMs: 180_000 })

const copies = (mappingId: string) =>
  db.sql<{ filename: string; state: string; reason: string | null; target_attachment_id: string | null; target_comment_id: string | null }[]>`
    select filename, state, reason, target_attachment_id, target_comment_id from elsync.attachment_copies where mapping_id = ${mappingId} order by filename`

const elementumRecord = (alias: string, title: string) => {
  const ns = elementum.store.namespace('tasks', alias)!
  return ns.order.map((seq) => ns.bySeq.get(seq)!).find((r) => r.data.Title === title)
}
const eleanTask = (project: string, title: string) => elean.store.project(project)!.topLevel.find((t) => t.title === title)

// what each side starts with
const five = bytes(5 * MB, 1)
const fiveBack = bytes(5 * MB, 2)
const thirty = bytes(30 * MB, 3)
const large = bytes(40 * MB, 4)
const printer = elementum.store.create(elementum.store.namespace('tasks', 'ops')!, { Title: 'Printer jams' })
attachToElementum(printer, 'manual.pdf', five, 'application/pdf')
attachToElementum(printer, 'firmware.bin', thirty)
// a file Elementum failed to process cannot be read, so it is not copied
attachToElementum(printer, 'broken.bin', bytes(1024, 9))
printer.attachments.at(-1)!.failed = true
const laptop = elean.store.createTask(elean.store.project('web')!, { title: 'Laptop battery' })
elean.store.addAttachment(laptop, { filename: 'photo.jpg', mimeType: 'image/jpeg', data: fiveBack })
const server = elementum.store.create(elementum.store.namespace('tasks', 'infra')!, { Title: 'Server room' })
attachToElementum(server, 'backup.tar', thirty)
const archive = elementum.store.create(elementum.store.namespace('tasks', 'big')!, { Title: 'Archive' })
attachToElementum(archive, 'archive.iso', large)

describe('attachments copied between linked records', () => {
  it('copies a 5 MB file byte-identical both ways, links or skips a 30 MB one Elean cannot take, and copies 40 MB between Elementum aliases', {
    timeout: 300_000,
  }, async () => {
    const first = await cycle()
    expect(first.pushed.dead, logs.text().slice(-3000)).toBe(0)
    // a dry run lists the copies the next sync will make, and queues none
    await app.pollPass({ mode: 'full', signal: AbortSignal.timeout(60_000) })
    const dry = await app.reconcilePass({ signal: AbortSignal.timeout(60_000), dryRun: true })
    expect(dry.flatMap((r) => r.summary?.plan ?? []).filter((l) => l.startsWith('attach '))).toHaveLength(5)
    const [queued] = await db.sql<{ n: number }[]>`select count(*)::int as n from elsync.attachment_links`
    expect(queued?.n).toBe(0)
    const second = await cycle()
    expect(second.pushed.dead, logs.text().slice(-3000)).toBe(0)
    const plan = second.reconciled.flatMap((r) => r.summary?.plan ?? [])
    expect(plan.filter((l) => l.startsWith('attach ')).length).toBe(5)

    // Elementum → Elean: the 5 MB file, byte for byte; the 30 MB one as a comment carrying its link
    const task = eleanTask('web', 'Printer jams')!
    expect(task.attachments.map((a) => a.filename)).toEqual(['manual.pdf'])
    expect(sha(task.attachments[0]?.data)).toBe(sha(five))
    const linkComments = task.comments.filter((c) => c.content.includes('firmware.bin'))
    expect(linkComments.length).toBe(1)
    const contentUrl = `${elementum.baseUrl}/tasks/ops/${encodeURIComponent(printer.data.id!)}/attachments/`
    expect(linkComments[0]?.content).toContain(contentUrl)
    expect(linkComments[0]?.content).toMatch(/— elsync via elementum$/)
    expect(await copies('ops-web')).toMatchObject([
      { filename: 'firmware.bin', state: 'linked', target_attachment_id: null, target_comment_id: linkComments[0]?.id },
      { filename: 'manual.pdf', state: 'copied', target_attachment_id: task.attachments[0]?.id },
      { filename: 'photo.jpg', state: 'copied' },
    ])

    // Elean → Elementum: processed (VALID) before the copy counted as done
    const laptopCopy = elementumRecord('ops', 'Laptop battery')!
    expect(laptopCopy.attachments.map((a) => [a.name, a.size])).toEqual([['photo.jpg', 5 * MB]])
    expect(sha(laptopCopy.attachments[0]?.content)).toBe(sha(fiveBack))
    expect(laptopCopy.attachments[0]?.readyAtMs).toBeLessThanOrEqual(elementum.store.clock.now())

    // oversize: skip writes nothing and says why
    const docs = eleanTask('docs', 'Server room')!
    expect(docs.attachments).toEqual([])
    expect(docs.comments).toEqual([])
    const [skipped] = await copies('infra-docs')
    expect(skipped).toMatchObject({ filename: 'backup.tar', state: 'skipped', target_attachment_id: null, target_comment_id: null })
    expect(skipped?.reason).toContain(`${30 * MB} bytes pass elean's limit of ${10 * MB} bytes`)

    // Elementum → Elementum between two aliases
    const mirrored = elementumRecord('mirror', 'Archive')!
    expect(mirrored.attachments.map((a) => a.name)).toEqual(['archive.iso'])
    expect(sha(mirrored.attachments[0]?.content)).toBe(sha(large))
    expect((await copies('big-mirror')).map((c) => c.state)).toEqual(['copied'])
    // the ledger of writes says what became of each file too
    const ledger = await db.sql<
      { response_excerpt: string }[]
    >`select response_excerpt from elsync.writes where op = 'attachment' and mapping_id = 'infra-docs'`
    expect(ledger.map((w) => JSON.parse(w.response_excerpt))).toMatchObject([{ state: 'skipped' }])
  })

  it('never copies a copy back: later syncs write nothing and the counts stay', { timeout: 240_000 }, async () => {
    const before = writeCount()
    for (let i = 0; i < 3; i++) {
      const quiet = await cycle()
      expect(quiet.pushed).toMatchObject({ sent: 0, failed: 0, dead: 0 })
    }
    expect(writeCount() - before).toBe(0)
    expect(printer.attachments.map((a) => a.name)).toEqual(['manual.pdf', 'firmware.bin', 'broken.bin'])
    expect(eleanTask('web', 'Laptop battery')!.attachments.map((a) => a.filename)).toEqual(['photo.jpg'])
    // the mirror tells copies from originals
    const origins = await db.sql<{ filename: string; connection: string; origin: string }[]>`
      select filename, connection, origin from elsync.attachments where stream in ('ops', 'web') order by connection, filename`
    expect(origins).toEqual([
      { filename: 'manual.pdf', connection: 'elean', origin: 'synced' },
      { filename: 'photo.jpg', connection: 'elean', origin: 'native' },
      { filename: 'broken.bin', connection: 'elementum', origin: 'native' },
      { filename: 'firmware.bin', connection: 'elementum', origin: 'native' },
      { filename: 'manual.pdf', connection: 'elementum', origin: 'native' },
      { filename: 'photo.jpg', connection: 'elementum', origin: 'synced' },
    ])
  })

  it('fetches a presigned URL again once it has expired', { timeout: 120_000 }, async () => {
    const task = eleanTask('web', 'Laptop battery')!
    const again = bytes(2 * MB, 5)
    elean.store.addAttachment(task, { filename: 'receipt.pdf', mimeType: 'application/pdf', data: again })
    const signal = AbortSignal.timeout(60_000)
    await app.pollPass({ mode: 'full', signal })
    await app.reconcilePass({ signal })
    // the first attempt reads the details (a fresh URL) and looks for an earlier copy (a GET
    // of the record's attachments), then Elementum refuses the upload (the next request there)
    const target = elementumRecord('ops', 'Laptop battery')!
    await fetch(`${elementum.server.url}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ kind: 'status', status: 500, count: 1, every: 2, route: `/v1/tasks/ops/${target.data.id}/attachments` }),
    })
    const failed = await app.executor.drain(signal)
    expect(failed, logs.text().slice(-3000)).toMatchObject({ sent: 0, failed: 1 })
    // an hour and more later the kept URL has expired: the retry must not rely on it
    await fetch(`${elean.server.url}/_sim/clock`, { method: 'POST', body: JSON.stringify({ advanceMs: 2 * 3_600_000 }) })
    await db.sql`update elsync.outbox set next_attempt_at = now() where state = 'failed'`
    const files = () => elean.server.stats().byRoute['GET /_files/:token'] ?? {}
    const expiredBefore = files()['403'] ?? 0
    const retried = await app.executor.drain(AbortSignal.timeout(60_000))
    expect(retried, logs.text().slice(-3000)).toMatchObject({ sent: 1, dead: 0 })
    expect((files()['403'] ?? 0) - expiredBefore).toBe(1)
    const copy = elementumRecord('ops', 'Laptop battery')!.attachments.find((a) => a.name === 'receipt.pdf')
    expect(sha(copy?.content)).toBe(sha(again))
  })
})
