import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { DEMO_QUERIES } from '../../src/cli/demo.js'
import { initialSync, startDemo } from '../../src/cli/demo.setup.js'
import { mapValue } from '../../src/engine/project.js'
import { createActor, readSimTask, type ActorSystem } from '../../src/sim/actor.js'
import { createTestDb } from '../support/db.js'
import { until } from '../support/until.js'

/**
 * `elsync demo`'s pieces as the command runs them: the simulators with sample data, the
 * example config in ./mappings pointed at them and polled every 2 s, the daemon, and the
 * demo's person. A change the person makes in one simulator must show in the other
 * simulator's stored task, both ways, through the daemon alone (no test-driven sync).
 */
const db = await createTestDb()
const lines: string[] = []
const demo = await startDemo({
  records: 8,
  pollSeconds: 2,
  configDir: join(import.meta.dirname, '..', '..', 'mappings'),
  documentedPorts: false,
  extraEnv: { DATABASE_URL: db.url, ELSYNC_ADMIN_PORT: '0', LOG_LEVEL: 'silent' },
  say: (l) => lines.push(l),
  onRun: (l) => lines.push(l),
})
afterAll(() => demo.stop())

describe('the demo', () => {
  it('carries a person’s edits across while the daemon runs: a title Elementum → Elean, a status Elean → Elementum', { timeout: 180_000 }, async () => {
    const scene = demo.scene
    if (!scene) throw new Error('the example config has no Elementum ↔ Elean mapping')
    await demo.daemon.pollAll()
    expect(await initialSync(demo, { withinMs: 120_000, quietMs: 5_000, everyMs: 60_000, onProgress: () => {} })).toBe(true)
    const actor = createActor({
      targets: scene.targets,
      seed: 5,
      eligible: scene.arrivals.onlyLinked(),
    })
    const stored = async (system: ActorSystem, remoteId: string) => readSimTask(scene.targets, system, remoteId)

    const title = await actor.act({ system: 'elementum', kind: 'title' })
    expect(title).not.toBeNull()
    const inElean = await scene.arrivals.counterpart('elementum', title!.remoteId)
    expect(inElean).not.toBeNull()
    await until('the title in the Elean simulator', async () => ((await stored('elean', inElean!))?.title === title!.value ? true : undefined), 60_000)

    const status = await actor.act({ system: 'elean', kind: 'status' })
    expect(status).not.toBeNull()
    const inElementum = await scene.arrivals.counterpart('elean', status!.remoteId)
    expect(inElementum).not.toBeNull()
    // the example mapping's value map read backwards: Elean's status name → Elementum's
    const want = mapValue(scene.mapping.fields.find((f) => f.left === 'Status')?.values ?? {}, 'right', status!.value)
    expect(want).toBeDefined()
    await until('the status in the Elementum simulator', async () => ((await stored('elementum', inElementum!))?.status === want ? true : undefined), 60_000)

    // the watcher the demo prints "arrived" from agrees, and times it
    const arrival = await scene.arrivals.waitFor(status!, { withinMs: 5_000 })
    expect(arrival?.task.remoteId).toBe(inElementum)
    expect(arrival?.seconds).toBeGreaterThan(0)
    // the daemon said what it queued, on its own lines
    expect(lines.some((l) => l.includes('writes queued') && l.includes('update elean'))).toBe(true)
    // polled every 2 s, it reports only the runs that read a change
    const runs = lines.filter((l) => l.startsWith('ok '))
    expect(runs.length).toBeGreaterThan(0)
    expect(runs.filter((l) => l.includes(' 0 changed, 0 deleted'))).toEqual([])
    // every status of either side has a counterpart in the example mapping: no record is held back by one
    expect(lines.filter((l) => l.includes('unmappable_value'))).toEqual([])
  })

  it('suggests SQL that shows the changes arriving, with the writes elsync pushed', async () => {
    const [history, writes, pairs] = await Promise.all(DEMO_QUERIES.map((q) => db.sql.unsafe(q.sql)))
    expect(history?.length).toBe(10)
    expect(history?.some((r) => r.source === 'push')).toBe(true)
    expect(writes?.some((r) => r.state === 'sent' && r.op === 'update')).toBe(true)
    expect(pairs?.length).toBeGreaterThan(0)
  })

  it('shows in the README the queries it prints (the docs test runs the README’s)', async () => {
    const flat = (text: string) => text.replace(/\s+/g, ' ')
    const readme = flat(await readFile(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8'))
    for (const q of DEMO_QUERIES) expect(readme).toContain(flat(q.sql))
  })
})
