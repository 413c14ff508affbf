/**
 * A simulator in its own process, so the benchmark's memory figures measure elsync and
 * not the simulator's store. Prints `{kind, baseUrl, credentials, statsUrl}` as one JSON
 * line once seeded, then serves until killed.
 *
 *   npx tsx bench/sim-server.ts elean|elementum <count>
 *   npx tsx bench/sim-server.ts elementum-attachment <MB>   (aliases `src` and `dst`; one
 *     record in `src` with a file of that size, whose sha256 the line carries as `sha256`)
 */
import { createHash, randomUUID } from 'node:crypto'
import { startElean } from '../src/sim/elean/index.js'
import { startElementum, seedNamespace } from '../src/sim/elementum/index.js'

const kind = process.argv[2] ?? 'elean'
const count = Number(process.argv[3] ?? 1000)
if (kind === 'elean') {
  const sim = await startElean({ port: 0, perMinute: 0 })
  sim.store.seed('bench', count, 1)
  console.log(JSON.stringify({ kind, baseUrl: sim.baseUrl, credentials: sim.credentials, simUrl: sim.server.url }))
} else if (kind === 'elementum-attachment') {
  const sim = await startElementum({ port: 0, processingMs: 500 })
  const src = sim.store.ensureNamespace('tasks', 'src')
  sim.store.ensureNamespace('tasks', 'dst')
  const record = sim.store.create(src, { Title: 'Disk image' })
  const content = Buffer.allocUnsafe(count * 1024 * 1024)
  let x = 7
  for (let i = 0; i < content.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    content[i] = x >>> 24
  }
  const now = sim.store.clock.now()
  record.attachments.push({
    ...{ seq: sim.store.nextSeq(), id: randomUUID(), name: 'disk.img', description: '', mediaType: 'application/octet-stream' },
    ...{ size: content.length, viewState: 'PRIVATE', createdAt: new Date(now).toISOString(), readyAtMs: now, content },
  })
  const sha256 = createHash('sha256').update(content).digest('hex')
  console.log(JSON.stringify({ kind, baseUrl: sim.baseUrl, credentials: sim.credentials, simUrl: sim.server.url, sha256 }))
} else {
  const sim = await startElementum({ port: 0 })
  seedNamespace(sim.store, 'tasks', 'bench', count, 1)
  console.log(JSON.stringify({ kind, baseUrl: sim.baseUrl, credentials: sim.credentials, simUrl: sim.server.url }))
}
