/**
 * `elsync demo` — a newcomer's first command: embedded Postgres (unless DATABASE_URL),
 * the four simulators with sample data, the example config in ./mappings pointed at
 * them, and the daemon. Prints the psql URL, the admin URL and token, and keeps a
 * simulated human editing records so changes flow into the mirror.
 */
import { processEnv } from '../config/env.js'
import { type Daemon, startDaemon } from '../main.js'
import { parseCommandArgs } from './args.js'
import { loadContext, runCommand } from './context.js'
import { untilSignal } from './run.js'
import { exampleConfigEnv, printSims, SAMPLE, seedAll, startOnDefaultPorts } from './sim.js'

const USAGE = `usage: elsync demo [--records N] [--config-dir <dir>] [--no-activity]

  --records      sample records per simulator (default 50)
  --no-activity  do not simulate people editing records every 15 s
`

export async function main(argv: readonly string[]): Promise<number> {
  const values = parseCommandArgs(
    'demo',
    argv,
    { records: { type: 'string', default: '50' }, 'config-dir': { type: 'string', short: 'c' }, 'no-activity': { type: 'boolean', default: false } },
    USAGE,
  )
  if (!values) return 2
  const records = Number(values.records)
  if (!Number.isInteger(records) || records < 1 || records > 100_000) {
    process.stderr.write(`elsync demo: --records must be a whole number from 1 to 100000, got ${values.records}\n`)
    return 2
  }
  return runCommand('demo', async () => {
    const say = (l: string) => process.stdout.write(`${l}\n`)
    const { sims, moved } = await startOnDefaultPorts({ seed: 1 })
    const elean = sims[1]
    seedAll(sims, records, 1)
    const extraEnv = exampleConfigEnv(sims)
    let daemon: Daemon | undefined
    try {
      // the demo's own log level: its story is told by the lines it prints
      const ctx = await loadContext({ configDir: values['config-dir'], extraEnv: { LOG_LEVEL: processEnv().LOG_LEVEL ?? 'warn', ...extraEnv } })
      daemon = await startDaemon(ctx, { say, freshDatabase: 'elsync_demo', onRun: say })
    } catch (err) {
      await Promise.all(sims.map((s) => s.close()))
      throw err
    }
    say('simulators (sample data of seed 1; the curls in README.md and docs/simulators.md use these ports and credentials):')
    printSims(sims, say)
    if (moved.length > 0) say(`note: ports 4101–4104 were partly taken; ${moved.join(', ')} moved to the port printed above`)
    say('')
    say('first poll of every stream…')
    await daemon.pollAll()
    say('')
    say(`analysts:  psql '${daemon.db.url}' -c 'select connection, stream, remote_id, title, status from elsync.records_current limit 20'`)
    say(`admin API: ${daemon.adminUrl}  (token: ${daemon.adminToken})`)
    say(`           curl -s ${daemon.adminUrl}/metrics | grep elsync_http_requests_total`)
    say("the mirror is polled on each connection's schedule (every minute for elementum and elean); Ctrl-C to stop")
    let n = 0
    const activity = values['no-activity']
      ? undefined
      : setInterval(() => {
          n += 1
          const project = elean.store.project(SAMPLE.eleanProject)
          if (!project) return
          const { rows } = elean.store.list(project, { page: 1 + (n % 5), limit: 10 })
          const task = rows[n % Math.max(rows.length, 1)]
          if (task) elean.store.editTask(task, { title: `${task.title.replace(/ \(edited \d+\)$/, '')} (edited ${n})` }, 'if-changed')
        }, 15_000)
    await untilSignal()
    if (activity) clearInterval(activity)
    say('stopping…')
    await daemon.stop()
    await Promise.all(sims.map((s) => s.close()))
    return 0
  })
}
