import type { Failpoint } from '../../src/app.js'
import { elsyncSync as spawnSync } from '../support/sync.world.js'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type StartedElementum, startElementum } from '../../src/sim/elementum/index.js'
import { createTestDb } from '../support/db.js'
import { vendorWrites } from '../support/sync-cycle.js'

/**
 * A relation and a watcher are written to workspace B, and `elsync sync` is SIGKILLed right
 * after the vendor answered (ELSYNC_FAILPOINT=push:after-send), before the outbox row was marked
 * sent. The next run claims the row again: it finds the relation (the watcher) already there and
 * does not write it a second time. Relating and watching are not idempotent in every API, so
 * the test counts the writes the simulator received, not only what it stores.
 */
const db = await createTestDb()
const a = await startElementum({ port: 0, seed: 21 })
const b = await startElementum({ port: 0, seed: 22 })
const dir = await mkdtemp(join(tmpdir(), 'elsync-related-crash-'))
afterAll(async () => {
  await Promise.all([a.close(), b.close()])
  await rm(dir, { recursive: true, force: true })
})
const nsA = a.store.ensureNamespace('tasks', 'it-requests')
b.store.ensureNamespace('tasks', 'ops')
for (const title of ['Laptop for Ada', 'VPN access', 'Printer toner']) a.store.create(nsA, { Title: title, Status: 'Open' })

const connection = (name: string, sim: StartedElementum, stream: string) => `
  ${name}:
    kind: elementum
    baseUrl: "${sim.baseUrl}"
    auth: { mode: oauth2-client-credentials, clientId: "${sim.credentials.clientId}", clientSecret: "\${SECRET_${name.slice(-1).toUpperCase()}}" }
    streams:
      ${stream}: { recordType: tasks, alias: ${stream} }`
await writeFile(join(dir, 'connections.yaml'), `connections:${connection('elementum-a', a, 'it-requests')}${connection('elementum-b', b, 'ops')}\n`)
await writeFile(
  join(dir, 'a-to-b.mapping.yaml'),
  `id: a-to-b
left: { connection: elementum-a, stream: it-requests }
right: { connection: elementum-b, stream: ops }
create: left-to-right
fields:
  - { left: Title, right: Title }
related: both
watchers: both
`,
)
const env: NodeJS.ProcessEnv = {
  ...process.env,
  DATABASE_URL: db.url,
  LOG_LEVEL: 'info',
  ELSYNC_CONFIG_DIR: dir,
  SECRET_A: a.credentials.clientSecret ?? '',
  SECRET_B: b.credentials.clientSecret ?? '',
}
delete env.ELSYNC_FAILPOINT

/** `elsync sync --full` (relating and watching leave `Updated on` alone: a full poll reads them). */
const elsyncSync = (failpoint?: Failpoint) => spawnSync(env, failpoint, ['--full'])

async function counterpart(left: string): Promise<string> {
  const [link] = await db.sql<{ right: string }[]>`select right_remote_id as right from elsync.links where mapping_id = 'a-to-b' and left_remote_id = ${left}`
  if (!link?.right) throw new Error(`${left} has no counterpart`)
  return link.right
}

const writesToB = (route: RegExp) => vendorWrites(b.server.stats(), route)
const RELATE = /^POST .*\/related-items$/
const WATCH = /^POST .*\/watchers$/

async function killAfterSendThenSync(): Promise<void> {
  const killed = await elsyncSync('push:after-send')
  expect(killed.signal, `the run was not killed:\n${killed.output.slice(-3000)}`).toBe('SIGKILL')
  const clean = await elsyncSync()
  expect(clean.code, clean.output.slice(-3000)).toBe(0)
}

describe('crash during a child write (SIGKILL after the vendor answered, then sync again)', () => {
  it('relates once and watches once, however the runs were cut', { timeout: 240_000 }, async () => {
    const first = await elsyncSync()
    expect(first.code, first.output.slice(-3000)).toBe(0)
    const [laptop, vpn, toner] = ['TSK-1', 'TSK-2', 'TSK-3']
    const [laptopB, vpnB, tonerB] = [await counterpart(laptop), await counterpart(vpn), await counterpart(toner)]

    // a relation: its relate is the first row pushed, and the run dies once B has it
    a.store.relate(a.store.find('tasks', 'it-requests', laptop)!, { id: vpn })
    await killAfterSendThenSync()
    expect(b.store.find('tasks', 'ops', laptopB)!.related.map((r) => r.id)).toEqual([vpnB])
    expect(writesToB(RELATE)).toBe(1)

    // a watcher likewise
    a.store.find('tasks', 'it-requests', toner)!.watchers.push(a.store.findUser({ email: 'alan.turing@example.com' })!)
    await killAfterSendThenSync()
    expect(b.store.find('tasks', 'ops', tonerB)!.watchers.map((w) => w.email)).toEqual(['alan.turing@example.com'])
    expect(writesToB(WATCH)).toBe(1)

    // and the next sync writes nothing anywhere
    const settled = vendorWrites(a.server.stats()) + vendorWrites(b.server.stats())
    const quiet = await elsyncSync()
    expect(quiet.code, quiet.output.slice(-3000)).toBe(0)
    expect(vendorWrites(a.server.stats()) + vendorWrites(b.server.stats()) - settled, quiet.output.slice(-3000)).toBe(0)
    expect(a.store.find('tasks', 'it-requests', laptop)!.related.map((r) => r.id)).toEqual([vpn])
    const [unsent] = await db.sql<{ n: number }[]>`select count(*)::int as n from elsync.outbox where state <> 'sent'`
    expect(unsent?.n).toBe(0)
  })
})
