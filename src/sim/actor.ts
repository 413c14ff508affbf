import { createPrng } from './common/prng.js'

/**
 * A simulated person for `elsync demo`, the freshness benchmark and the tests: now and then
 * edits a task's title, changes its status or adds a comment, in Elementum or in Elean,
 * through the simulators' `/_sim/` routes as a person in the web UI would (no credentials,
 * no rate limit). It speaks HTTP only, so it works as well against simulators in another
 * process. Seeded: the same seed makes the same choices among the same records.
 */

export type ActorSystem = 'elementum' | 'elean'
export type ActorKind = 'title' | 'status' | 'comment'

/** Where the actor works, with the statuses it may set on each side (those the mapping can carry across). */
export interface ActorTargets {
  elementum: { url: string; recordType: string; alias: string; statuses: readonly string[] }
  elean: { url: string; project: string; statuses: readonly string[] }
}

/** A task as a simulator stores it, in the few fields the actor touches. */
export interface SimTask {
  /** The vendor's id: Elementum `TSK-7`, an Elean task's UUID (what the mirror calls `remote_id`). */
  remoteId: string
  /** The id people use: `TSK-7`, `WEB-12`. */
  key: string
  title: string
  status: string | null
  comments: string[]
}

export interface ActorAction {
  system: ActorSystem
  remoteId: string
  key: string
  kind: ActorKind
  /** The new title, the new status name, or the comment's text. */
  value: string
  /** The title or status before; null for a comment. */
  before: string | null
  /** When the simulator accepted it. */
  at: Date
}

export interface ActorOptions {
  targets: ActorTargets
  seed: number
  systems?: readonly ActorSystem[]
  kinds?: readonly ActorKind[]
  /**
   * Narrows the tasks it may touch (e.g. to those already linked); by default every task
   * in a status the actor may set (or in any status, where it may set none).
   */
  eligible?: (system: ActorSystem, tasks: SimTask[]) => SimTask[] | Promise<SimTask[]>
}

export interface ActorLoopOptions {
  /** The pause between two actions is drawn (seeded) between these. */
  minMs: number
  maxMs: number
  onAction: (action: ActorAction) => void
  onError: (err: unknown) => void
}

export interface Actor {
  /** One action now; null when no task qualifies. */
  act(opts?: { system?: ActorSystem; kind?: ActorKind }): Promise<ActorAction | null>
  /** Acts now and then until `stop`. */
  start(opts: ActorLoopOptions): void
  /** Stops the loop and waits for an action in flight. Idempotent. */
  stop(): Promise<void>
}

const COMMENTS = ['Looked into it, on it.', 'Waiting for the vendor to answer.', 'Can we close this?', 'Moved to next sprint.', 'Tested on staging: fine.']

async function simJson(url: string, init?: { method: string; body: unknown }): Promise<unknown> {
  const res = await fetch(url, init ? { method: init.method, body: JSON.stringify(init.body), headers: { 'content-type': 'application/json' } } : undefined)
  const text = await res.text()
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${res.status} ${text.slice(0, 200)}`)
  return text === '' ? null : (JSON.parse(text) as unknown)
}

interface ElementumDump {
  items: { data: Record<string, unknown>; comments: { contents: string }[] }[]
}
interface EleanDump {
  statuses: { id: string; name: string }[]
  tasks: { id: string; externalId: string; title: string; status: { name: string } | null; comments: { content: string }[] }[]
}

const elementumPath = (t: ActorTargets['elementum']) => `${t.url}/_sim/records/${t.recordType}/${t.alias}`
const eleanPath = (t: ActorTargets['elean']) => `${t.url}/_sim/tasks/${t.project}`

/** Every task of one side as its simulator stores it now. */
export async function readSimTasks(targets: ActorTargets, system: ActorSystem): Promise<SimTask[]> {
  if (system === 'elementum') {
    const dump = (await simJson(elementumPath(targets.elementum))) as ElementumDump
    return dump.items.map(({ data, comments }) => ({
      remoteId: String(data.id),
      key: String(data.id),
      title: String(data.Title ?? ''),
      status: typeof data.Status === 'string' ? data.Status : null,
      comments: comments.map((c) => c.contents),
    }))
  }
  const dump = (await simJson(eleanPath(targets.elean))) as EleanDump
  return dump.tasks.map((t) => ({
    remoteId: t.id,
    key: t.externalId,
    title: t.title,
    status: t.status?.name ?? null,
    comments: t.comments.map((c) => c.content),
  }))
}

/** One task of one side, or null when it is not there. */
export async function readSimTask(targets: ActorTargets, system: ActorSystem, remoteId: string): Promise<SimTask | null> {
  return (await readSimTasks(targets, system)).find((t) => t.remoteId === remoteId) ?? null
}

/** `title` without the marks earlier actions appended, so that titles do not grow without end. */
const baseTitle = (title: string): string => title.replace(/ \((?:edited|renamed) \d+\)$/, '')

export function createActor(opts: ActorOptions): Actor {
  const { targets } = opts
  const prng = createPrng(opts.seed)
  const systems = opts.systems ?? (['elementum', 'elean'] as const)
  const kinds = opts.kinds ?? (['title', 'status', 'comment'] as const)
  let n = 0

  async function apply(system: ActorSystem, task: SimTask, kind: ActorKind): Promise<ActorAction | null> {
    const at = (): Date => new Date()
    const done = (value: string, before: string | null): ActorAction => ({ system, remoteId: task.remoteId, key: task.key, kind, value, before, at: at() })
    const el = targets.elementum
    const ea = targets.elean
    switch (kind) {
      case 'title': {
        const value = `${baseTitle(task.title)} (${system === 'elementum' ? 'edited' : 'renamed'} ${n})`
        if (system === 'elementum') await simJson(`${elementumPath(el)}/${task.remoteId}/edit`, { method: 'POST', body: { Title: value } })
        else await simJson(`${eleanPath(ea)}/${task.remoteId}/edit`, { method: 'POST', body: { title: value } })
        return done(value, task.title)
      }
      case 'status': {
        const choices = (system === 'elementum' ? el.statuses : ea.statuses).filter((s) => s !== task.status)
        if (choices.length === 0) return null
        const value = prng.pick(choices)
        if (system === 'elementum') await simJson(`${elementumPath(el)}/${task.remoteId}/edit`, { method: 'POST', body: { Status: value } })
        else {
          const { statuses } = (await simJson(eleanPath(ea))) as EleanDump
          const status = statuses.find((s) => s.name === value)
          if (!status) throw new Error(`Elean project ${ea.project} has no status named ${value}`)
          await simJson(`${eleanPath(ea)}/${task.remoteId}/edit`, { method: 'POST', body: { statusId: status.id } })
        }
        return done(value, task.status)
      }
      case 'comment': {
        const value = `${prng.pick(COMMENTS)} (#${n})`
        if (system === 'elementum') await simJson(`${elementumPath(el)}/${task.remoteId}/comments`, { method: 'POST', body: { contents: value } })
        else await simJson(`${eleanPath(ea)}/${task.remoteId}/comments`, { method: 'POST', body: { content: value, authorName: 'Mei Tanaka' } })
        return done(value, null)
      }
    }
  }

  async function act(choice: { system?: ActorSystem; kind?: ActorKind } = {}): Promise<ActorAction | null> {
    n += 1
    const system = choice.system ?? prng.pick(systems)
    const kind = choice.kind ?? prng.pick(kinds)
    const allowed = system === 'elementum' ? targets.elementum.statuses : targets.elean.statuses
    const inStatus = (await readSimTasks(targets, system)).filter((t) => allowed.length === 0 || (t.status !== null && allowed.includes(t.status)))
    const tasks = opts.eligible ? await opts.eligible(system, inStatus) : inStatus
    if (tasks.length === 0) return null
    return apply(system, prng.pick(tasks), kind)
  }

  let timer: NodeJS.Timeout | undefined
  let inFlight: Promise<void> = Promise.resolve()
  let stopped = false
  return {
    act,
    start(loop) {
      const next = (): void => {
        if (stopped) return
        timer = setTimeout(
          () => {
            inFlight = act()
              .then((a) => void (a && !stopped && loop.onAction(a)))
              .catch((err: unknown) => void (!stopped && loop.onError(err)))
              .finally(next)
          },
          prng.int(loop.minMs, loop.maxMs),
        )
      }
      stopped = false
      next()
    },
    async stop() {
      stopped = true
      clearTimeout(timer)
      await inFlight
    },
  }
}

/** One line per action, as the demo prints it: `elean WEB-12: status In Progress → Done`. */
export function actionLine(a: ActorAction): string {
  const what = a.kind === 'comment' ? `comment ${JSON.stringify(a.value)}` : `${a.kind} ${JSON.stringify(a.before)} → ${JSON.stringify(a.value)}`
  return `${a.system} ${a.key}: ${what}`
}
