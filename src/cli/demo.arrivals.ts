/**
 * Watching an actor's change reach the other system: the counterpart comes from the mirror's
 * links, the arrival from the other simulator's stored task (not from elsync's own account of
 * it). `elsync demo` prints each arrival, the freshness benchmark and the demo test time them.
 */
import type { MappingConfig } from '../config/schema.js'
import type { Sql } from '../db/client.js'
import { mapValue } from '../engine/project.js'
import { type ActorAction, type ActorKind, type ActorSystem, type ActorTargets, readSimTask, type SimTask } from '../sim/actor.js'

/** The fields the actor edits, as each system names them. */
const FIELD: Record<ActorSystem, Record<Exclude<ActorKind, 'comment'>, string>> = {
  elementum: { title: 'Title', status: 'Status' },
  elean: { title: 'title', status: 'status' },
}

export interface Arrival {
  action: ActorAction
  /** The other system and its task, as its simulator stores it once the change is there. */
  system: ActorSystem
  task: SimTask
  /** From the simulator accepting the change to the other simulator having it. */
  seconds: number
}

export interface Arrivals {
  /** Which side of the mapping each system is. */
  readonly sides: Readonly<Record<ActorSystem, 'left' | 'right'>>
  /** The linked counterpart's remote id, or null while there is none. */
  counterpart(system: ActorSystem, remoteId: string): Promise<string | null>
  /** Remote ids of linked records on one side. */
  linked(system: ActorSystem): Promise<Set<string>>
  /** For the actor: only linked tasks (others have no counterpart to show a change), none of `except`. */
  onlyLinked(except?: ReadonlySet<string>): (system: ActorSystem, tasks: SimTask[]) => Promise<SimTask[]>
  /** What the other system's task shows once the change arrived; null when the mapping does not carry it that way. */
  expected(action: ActorAction): ((task: SimTask) => boolean) | null
  /** Polls the other simulator until the change is there (the arrival) or `withinMs` passed (null). */
  waitFor(action: ActorAction, opts: { withinMs: number; everyMs?: number; signal?: AbortSignal }): Promise<Arrival | null>
}

const other = (s: ActorSystem): ActorSystem => (s === 'elementum' ? 'elean' : 'elementum')

export function createArrivals(opts: {
  sql: Sql
  mapping: MappingConfig
  sides: Readonly<Record<ActorSystem, 'left' | 'right'>>
  targets: ActorTargets
}): Arrivals {
  const { sql, mapping, sides, targets } = opts
  const carries = (from: ActorSystem, direction: string): boolean =>
    direction === 'both' || direction === (sides[from] === 'left' ? 'left-to-right' : 'right-to-left')

  const arrivals: Arrivals = {
    sides,
    async counterpart(system, remoteId) {
      const rows =
        sides[system] === 'left'
          ? await sql<
              { id: string | null }[]
            >`select right_remote_id as id from elsync.links where mapping_id = ${mapping.id} and left_remote_id = ${remoteId} and state = 'linked'`
          : await sql<
              { id: string | null }[]
            >`select left_remote_id as id from elsync.links where mapping_id = ${mapping.id} and right_remote_id = ${remoteId} and state = 'linked'`
      return rows[0]?.id ?? null
    },
    async linked(system) {
      const rows =
        sides[system] === 'left'
          ? await sql<
              { id: string }[]
            >`select left_remote_id as id from elsync.links where mapping_id = ${mapping.id} and state = 'linked' and left_remote_id is not null`
          : await sql<
              { id: string }[]
            >`select right_remote_id as id from elsync.links where mapping_id = ${mapping.id} and state = 'linked' and right_remote_id is not null`
      return new Set(rows.map((r) => r.id))
    },
    onlyLinked: (except) => async (system, tasks) => {
      const linked = await arrivals.linked(system)
      return tasks.filter((t) => linked.has(t.remoteId) && !except?.has(t.remoteId))
    },
    expected(action) {
      if (action.kind === 'comment') {
        if (!carries(action.system, mapping.comments)) return null
        return (task) => task.comments.some((c) => c.includes(action.value))
      }
      const kind = action.kind
      const from = sides[action.system]
      const to = from === 'left' ? 'right' : 'left'
      const field = mapping.fields.find((f) => f[from] === FIELD[action.system][kind])
      if (!field || !carries(action.system, field.direction)) return null
      let value: string | undefined = action.value
      if (field.values) value = mapValue(field.values, from, action.value)
      if (value === undefined || field[to] !== FIELD[other(action.system)][kind]) return null
      const want = value
      return (task) => (kind === 'title' ? task.title === want : task.status === want)
    },
    async waitFor(action, { withinMs, everyMs = 100, signal }) {
      const check = arrivals.expected(action)
      if (!check) return null
      const system = other(action.system)
      const deadline = action.at.getTime() + withinMs
      let id: string | null = null
      while (!signal?.aborted && Date.now() < deadline) {
        id ??= await arrivals.counterpart(action.system, action.remoteId)
        const task = id === null ? null : await readSimTask(targets, system, id)
        if (task && check(task)) return { action, system, task, seconds: (Date.now() - action.at.getTime()) / 1000 }
        await new Promise((r) => setTimeout(r, everyMs))
      }
      return null
    },
  }
  return arrivals
}

/** The p-th percentile (0–100) of `values`, nearest rank; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number
}
