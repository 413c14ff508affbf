/**
 * `elsync demo` — a newcomer's first command: embedded Postgres (unless DATABASE_URL),
 * the four simulators with sample data, the example config in ./mappings pointed at
 * them and polled every few seconds, and the daemon. A simulated person edits titles,
 * changes statuses and adds comments on both sides, one line per action, and the demo
 * says when (and how soon) each change shows in the other system.
 */
import { processEnv } from '../config/env.js'
import { createActor, actionLine, type Actor, type ActorAction } from '../sim/actor.js'
import { percentile } from './demo.arrivals.js'
import { type ActorScene, initialSync, startDemo } from './demo.setup.js'
import { parseCommandArgs } from './args.js'
import { runCommand } from './context.js'
import { untilSignal } from './run.js'
import { printSims } from './sim.js'

/**
 * Sample records per simulator: enough to look around, few enough that the first writes
 * (records each side lacks) fit in Elean's first minute of 60 requests.
 */
const DEMO_RECORDS = 20

const USAGE = `usage: elsync demo [--records N] [--poll-seconds N] [--config-dir <dir>] [--no-activity]

  --records       sample records per simulator (default ${DEMO_RECORDS})
  --poll-seconds  how often the synced systems are polled (default 5)
  --no-activity   no simulated person editing records
`

/** What the demo suggests an analyst run in psql: changes arriving, the writes they caused, the pairs they touched. */
export const DEMO_QUERIES = [
  {
    what: 'the last ten changes the mirror recorded, and what brought each: poll (read from a system) or push (written there by elsync)',
    sql: "select observed_at, connection, remote_id, op, source, (select string_agg(k, ', ') from jsonb_object_keys(changed) k) as fields from elsync.record_history order by observed_at desc limit 10",
  },
  {
    what: 'the last ten writes elsync made to a system, and how long each waited to be sent',
    sql: 'select write_id, connection, remote_id, op, fields, state, sent_at - created_at as waited from elsync.writes order by write_id desc limit 10',
  },
  {
    what: 'the pairs of linked records synced last, side by side',
    sql: 'select l.left_remote_id, a.title, b.external_key as right_key, b.title as right_title, b.status as right_status, l.last_synced_at from elsync.links l join elsync.records_current a on (a.connection, a.stream, a.remote_id) = (l.left_connection, l.left_stream, l.left_remote_id) join elsync.records_current b on (b.connection, b.stream, b.remote_id) = (l.right_connection, l.right_stream, l.right_remote_id) order by l.last_synced_at desc nulls last limit 10',
  },
] as const

const clock = (): string => new Date().toTimeString().slice(0, 8)

function wholeNumber(value: string | undefined, name: string, min: number, max: number): number | undefined {
  const n = Number(value)
  if (Number.isInteger(n) && n >= min && n <= max) return n
  process.stderr.write(`elsync demo: --${name} must be a whole number from ${min} to ${max}, got ${value}\n`)
  return undefined
}

/** The person at work: one line per action, then one when the change shows in the other system. */
function startActivity(scene: ActorScene, pollSeconds: number, say: (line: string) => void): { stop(): Promise<{ arrived: number[]; missed: number }> } {
  const { arrivals } = scene
  const watching = new Set<string>()
  const controller = new AbortController()
  const waits = new Set<Promise<void>>()
  const arrived: number[] = []
  let missed = 0
  const actor: Actor = createActor({
    targets: scene.targets,
    seed: 1,
    // one change in flight per pair
    eligible: arrivals.onlyLinked(watching),
  })
  const watch = async (action: ActorAction): Promise<void> => {
    // an Elean comment does not move its task's updatedAt: it is read when the task's turn comes
    const withinMs = action.kind === 'comment' ? 300_000 : 6 * pollSeconds * 1000 + 30_000
    if (!arrivals.expected(action)) {
      say(`${clock()} (the mapping does not carry this ${action.kind} to the other system)`)
      return
    }
    const ids = [action.remoteId]
    watching.add(action.remoteId)
    try {
      const counterpart = await arrivals.counterpart(action.system, action.remoteId)
      if (counterpart) ids.push(counterpart)
      if (counterpart) watching.add(counterpart)
      const a = await arrivals.waitFor(action, { withinMs, everyMs: 200, signal: controller.signal })
      if (controller.signal.aborted) return
      if (a) {
        arrived.push(a.seconds)
        say(`${clock()} arrived   ${a.system} ${a.task.key}: ${action.kind} from ${action.system} ${action.key}, ${a.seconds.toFixed(1)} s after the edit`)
      } else {
        missed += 1
        say(`${clock()} not yet   ${action.system} ${action.key}: its ${action.kind} is not in the other system after ${Math.round(withinMs / 1000)} s`)
      }
    } finally {
      for (const id of ids) watching.delete(id)
    }
  }
  actor.start({
    minMs: 3_000,
    maxMs: 8_000,
    onAction: (action) => {
      say(`${clock()} person    ${actionLine(action)}`)
      const w = watch(action).catch((err: unknown) => say(`${clock()} watching failed: ${err instanceof Error ? err.message : String(err)}`))
      waits.add(w)
      void w.finally(() => waits.delete(w))
    },
    onError: (err) => say(`${clock()} person: ${err instanceof Error ? err.message : String(err)}`),
  })
  return {
    async stop() {
      await actor.stop()
      controller.abort()
      await Promise.all(waits)
      return { arrived, missed }
    },
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  const values = parseCommandArgs(
    'demo',
    argv,
    {
      records: { type: 'string', default: String(DEMO_RECORDS) },
      'poll-seconds': { type: 'string', default: '5' },
      'config-dir': { type: 'string', short: 'c' },
      'no-activity': { type: 'boolean', default: false },
    },
    USAGE,
  )
  if (!values) return 2
  const records = wholeNumber(values.records, 'records', 1, 100_000)
  const pollSeconds = wholeNumber(values['poll-seconds'], 'poll-seconds', 1, 59)
  if (records === undefined || pollSeconds === undefined) return 2
  return runCommand('demo', async () => {
    const say = (l: string) => process.stdout.write(`${l}\n`)
    let live = false
    // once the demo runs, each of the daemon's lines gets the time, to follow a change from line to line
    const onRun = (text: string) => say(live ? text.replace(/^/gm, `${clock()} `) : text)
    const demo = await startDemo({
      records,
      pollSeconds,
      configDir: values['config-dir'],
      documentedPorts: true,
      freshDatabase: 'elsync_demo',
      // the demo's own log level: its story is told by the lines it prints
      extraEnv: { LOG_LEVEL: processEnv().LOG_LEVEL ?? 'warn' },
      say,
      onRun,
    })
    const { daemon, sims } = demo
    say('simulators (sample data of seed 1; the curls in README.md and docs/simulators.md use these ports and credentials):')
    printSims(sims, say)
    if (demo.moved.length > 0) say(`note: ports 4101–4104 were partly taken; ${demo.moved.join(', ')} moved to the port printed above`)
    say('')
    // Ctrl-C from here on stops the demo cleanly, also while it waits for the initial sync
    const stopping = new AbortController()
    const signalled = untilSignal().then(() => stopping.abort())
    say('first poll of every stream…')
    await daemon.pollAll()
    say('')
    say(`analysts:  psql '${daemon.db.url}'   then, for example:`)
    for (const q of DEMO_QUERIES) say(`  -- ${q.what}\n  ${q.sql};`)
    say(`admin API: ${daemon.adminUrl}  (token: ${daemon.adminToken})`)
    say(`           curl -s ${daemon.adminUrl}/metrics | grep elsync_http_requests_total`)
    say('')
    live = true
    const mapped = demo.ctx.config.mappings.map((m) => `${m.left.connection} ↔ ${m.right.connection}`).join(', ')
    say(`${clock()} polling ${mapped || 'the mapped systems'} every ${pollSeconds} s (the others on their schedules); Ctrl-C to stop`)
    say(`${clock()} initial sync: each system gets the records it lacks (Elean accepts 60 requests a minute)…`)
    const started = Date.now()
    const settled = await initialSync(demo, {
      withinMs: 300_000,
      // two polls of each side that queue nothing: the records created were read back
      quietMs: 2 * pollSeconds * 1000 + 1_000,
      everyMs: 10_000,
      signal: stopping.signal,
      onProgress: (n) => say(`${clock()}   ${n} writes left to send…`),
    })
    if (settled) say(`${clock()} initial sync done in ${Math.round((Date.now() - started) / 1000)} s: the linked records match`)
    else if (!stopping.signal.aborted) say(`${clock()} the initial sync is still sending writes; changes made now wait behind them`)
    const activity = values['no-activity'] || !demo.scene || stopping.signal.aborted ? undefined : startActivity(demo.scene, pollSeconds, say)
    if (activity)
      say(
        `${clock()} a person now edits titles and statuses and adds comments on both sides: "person" is the edit, "ok" the poll that read it, "mapping" the write it queued, "arrived" the change in the other system`,
      )
    else if (!values['no-activity'] && !demo.scene) say('(no Elementum ↔ Elean mapping in this config: nobody edits records)')
    await signalled
    say('stopping…')
    const seen = await activity?.stop()
    if (seen && seen.arrived.length > 0)
      say(
        `${seen.arrived.length} changes arrived in the other system: median ${percentile(seen.arrived, 50).toFixed(1)} s, p95 ${percentile(seen.arrived, 95).toFixed(1)} s after the edit${seen.missed ? `; ${seen.missed} did not within the wait` : ''}`,
      )
    await demo.stop()
    return 0
  })
}
