/**
 * Running initdb and the postmaster from a Postgres binary tree (bin, lib, share), optionally
 * as another OS user. Every spawn has an 'error' listener: a binary that cannot be executed
 * (EACCES, ENOENT) becomes a typed error, never an unhandled 'error' event that kills Node.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { EmbeddedPostgresStartError } from './embedded.errors.js'

/** The unprivileged OS user the cluster runs as when elsync runs as root. */
export interface RunAs {
  user: string
  uid: number
  gid: number
}

interface Ended {
  code: number | null
  signal: NodeJS.Signals | null
  error?: Error
}

interface Spawned {
  child: ChildProcess
  /** The last lines of stdout and stderr, for the error message. */
  tail: string[]
  ended: Promise<Ended>
}

const TAIL_LINES = 20
const READY = 'database system is ready to accept connections'

function spawnLogged(tree: string, program: string, args: readonly string[], runAs: RunAs | undefined, onLine: (line: string) => void): Spawned {
  const bin = join(tree, 'bin')
  const child = spawn(join(bin, program), args, {
    // the caller's working directory may be closed to the postgres user
    cwd: bin,
    // messages in English whatever the machine's locale: readiness is recognised by its text
    env: { LC_MESSAGES: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // a process group of its own: Ctrl-C in a terminal signals the whole foreground group, and a
    // postmaster that shut down with it would leave the interrupted run unrecorded; elsync stops it in order
    detached: true,
    ...(runAs && { uid: runAs.uid, gid: runAs.gid }),
  })
  const tail: string[] = []
  const take = (line: string) => {
    onLine(line)
    tail.push(line)
    if (tail.length > TAIL_LINES) tail.shift()
  }
  if (child.stdout) createInterface({ input: child.stdout }).on('line', take)
  if (child.stderr) createInterface({ input: child.stderr }).on('line', take)
  const ended = new Promise<Ended>((resolve) => {
    child.on('error', (error) => resolve({ code: null, signal: null, error }))
    // 'close' rather than 'exit': the last lines of output have been read by then
    child.once('close', (code, signal) => resolve({ code, signal }))
  })
  return { child, tail, ended }
}

/** Why a run ended, in one line: the spawn error, or the most telling line of its output. */
function failure(program: string, runAs: RunAs | undefined, ended: Ended, tail: readonly string[]): string {
  const as = runAs ? ` as user "${runAs.user}"` : ''
  if (ended.error) {
    const code = (ended.error as NodeJS.ErrnoException).code
    if (code === 'EACCES') return `the user${as || ' running elsync'} may not execute ${program} (EACCES: a directory on its path is closed to it)`
    return `cannot execute ${program}${as}: ${ended.error.message}`
  }
  const lines = tail.map((l) => l.trim()).filter(Boolean)
  const at = lines.findLastIndex((l) => /\b(error|FATAL|PANIC):/.test(l))
  const hint = lines[at + 1]?.match(/\b(hint|HINT):\s*(.*)/)?.[2]
  const telling = `${lines.at(at) ?? 'no output'}${at >= 0 && hint ? ` (${hint})` : ''}`
  return `${program}${as} exited with ${ended.signal ? `signal ${ended.signal}` : `code ${ended.code}`}: ${telling}`
}

export async function runInitdb(tree: string, args: readonly string[], runAs: RunAs | undefined, onLine: (line: string) => void): Promise<void> {
  const { ended, tail } = spawnLogged(tree, 'initdb', args, runAs, onLine)
  const end = await ended
  if (end.error || end.code !== 0) throw new EmbeddedPostgresStartError(failure('initdb', runAs, end, tail), { cause: end.error })
}

/** Postmasters this process started and has not stopped: told to shut down when Node exits or is killed. */
const running = new Set<ChildProcess>()
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

function shutDownAll(): void {
  // synchronous, as 'exit' handlers must be: Postgres finishes its fast shutdown on its own
  for (const child of running) child.kill('SIGINT')
}

/**
 * A signal nobody else handles would kill Node and orphan the postmaster, whose lock file then
 * blocks the next start. When a command handles the signal itself (run, demo), it stops the
 * cluster in order and this does nothing; otherwise the cluster is told to stop and the signal
 * is raised again with Node's default action.
 */
function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return
  shutDownAll()
  for (const s of SIGNALS) process.off(s, onSignal)
  process.kill(process.pid, signal)
}

function track(child: ChildProcess, ended: Promise<unknown>): void {
  if (running.size === 0) {
    process.on('exit', shutDownAll)
    for (const s of SIGNALS) process.on(s, onSignal)
  }
  running.add(child)
  void ended.then(() => {
    running.delete(child)
    if (running.size > 0) return
    process.off('exit', shutDownAll)
    for (const s of SIGNALS) process.off(s, onSignal)
  })
}

export interface Postmaster {
  /** Fast shutdown; SIGQUIT when it takes longer than `graceMs`. Idempotent. */
  stop(): Promise<void>
}

export async function startPostmaster(
  tree: string,
  args: readonly string[],
  runAs: RunAs | undefined,
  onLine: (line: string) => void,
  readyWithinMs = 120_000,
): Promise<Postmaster> {
  let markReady = () => {}
  const ready = new Promise<'ready'>((resolve) => {
    markReady = () => resolve('ready')
  })
  const spawned = spawnLogged(tree, 'postgres', args, runAs, (line) => {
    onLine(line)
    if (line.includes(READY)) markReady()
  })
  const { child, ended, tail } = spawned
  track(child, ended)

  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), readyWithinMs)
  })
  const outcome = await Promise.race([ready, ended, deadline])
  clearTimeout(timer)
  if (outcome === 'timeout') {
    child.kill('SIGQUIT')
    await ended
    throw new EmbeddedPostgresStartError(`postgres was not ready within ${readyWithinMs / 1000} s; its last line: ${tail.at(-1) ?? 'none'}`)
  }
  if (outcome !== 'ready') throw new EmbeddedPostgresStartError(failure('postgres', runAs, outcome, tail), { cause: outcome.error })

  let stopping: Promise<void> | undefined
  const stop = async (graceMs = 30_000) => {
    if (!running.has(child)) return
    child.kill('SIGINT')
    let escalate: NodeJS.Timeout | undefined
    const gone = await Promise.race([ended.then(() => true), new Promise<false>((r) => (escalate = setTimeout(() => r(false), graceMs)))])
    clearTimeout(escalate)
    if (!gone) {
      child.kill('SIGQUIT')
      await ended
    }
  }
  return {
    stop: () => {
      stopping ??= stop()
      return stopping
    },
  }
}
