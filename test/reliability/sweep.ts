import { FAILPOINTS, type Failpoint } from '../../src/app.js'
import type { Prng } from '../../src/sim/common/prng.js'
import { type BidiWorld, elsyncSync, type Exit, expireLeases, writeCount } from '../support/bidi-world.js'

/**
 * The bidirectional kill sweep (issue 13), checked like a Jepsen set. Between trials a person
 * edits titles and statuses of linked records (each pair on one side only, so that no conflict
 * policy decides) and creates records on both sides, every value a unique token; each change
 * the simulator accepted is an acknowledged write. Then `elsync sync` is SIGKILLed at a named
 * fail-point or at a random moment, the world is settled (syncs until one writes nothing),
 * and every acknowledged write must be on its own side and on the counterpart (lost = 0),
 * every token exactly once per side (duplicated = 0), and nothing left undelivered.
 */

const MAPPING = 'it-requests'
/** The example mapping's status value map: Elementum → Elean. */
const STATUS_TO_RIGHT: Record<string, string> = { Open: 'To Do', 'In Progress': 'In Progress', Closed: 'Done' }

type Side = 'left' | 'right'
interface Ack {
  side: Side
  id: string
  title: string
  /** In the side's own terms. */
  status?: string
}

export interface TrialLine {
  trial: number
  strike: Failpoint | 'random-kill'
  atMs?: number
  /** The clean sync the random moment was drawn against. */
  window?: { firstLineMs: number | null; ms: number | null }
  killed: boolean
  exit: string | number | null
  leasesLeft: number
  settleRuns: number
  acks: number
  lost: number
  duplicated: number
  undelivered: number
  /** The mirror against the simulators after settling. */
  stale: number
  examples?: string[]
  output?: string
}

export interface SweepTotals {
  trials: number
  killed: number
  lost: number
  duplicated: number
  undelivered: number
  stale: number
  unsettled: number
}

interface Side2 {
  title: string
  status: string | null
}

/** Each side's records now, by id, straight from the simulators. */
function records(w: BidiWorld): Record<Side, Map<string, Side2>> {
  const ns = w.elementum.store.namespace('tasks', 'it-requests')!
  const project = w.elean.store.project('web')!
  const left = new Map<string, Side2>()
  for (const seq of ns.order) {
    const d = ns.bySeq.get(seq)!.data
    if (d.id) left.set(d.id, { title: (d.Title ?? '').trim(), status: d.Status ?? null })
  }
  const right = new Map<string, Side2>()
  for (const t of project.topLevel) {
    right.set(t.id, { title: t.title.trim(), status: project.statuses.find((s) => s.id === t.statusId)?.name ?? null })
  }
  return { left, right }
}

/** Records of either simulator the mirror lacks or holds with another title, and mirrored records the simulators no longer have. */
async function mirrorStale(w: BidiWorld, now: Record<Side, Map<string, Side2>>): Promise<string[]> {
  const rows = await w.db.sql<{ side: Side; remote_id: string; title: string | null }[]>`
    select case when connection = 'elementum' then 'left' else 'right' end as side, remote_id, title from elsync.records
    where deleted_at is null and ((connection = 'elementum' and stream = 'it-requests') or (connection = 'elean' and stream = 'web'))`
  const mirrored = new Map(rows.map((r) => [`${r.side}:${r.remote_id}`, r.title?.trim() ?? '']))
  const stale: string[] = []
  for (const side of ['left', 'right'] as const) {
    for (const [id, r] of now[side]) {
      const m = mirrored.get(`${side}:${id}`)
      if (m !== r.title) stale.push(`${side}:${id} mirror has ${m === undefined ? 'nothing' : `"${m}"`}, vendor "${r.title}"`)
    }
  }
  const project = w.elean.store.project('web')!
  for (const r of rows) {
    const known = r.side === 'left' ? now.left.has(r.remote_id) : project.tasks.has(r.remote_id)
    if (!known) stale.push(`${r.side}:${r.remote_id} mirrored live, gone at the vendor`)
  }
  return stale
}

async function links(w: BidiWorld): Promise<{ left: string; right: string }[]> {
  return w.db.sql<{ left: string; right: string }[]>`
    select left_remote_id as left, right_remote_id as right from elsync.links
    where mapping_id = ${MAPPING} and left_remote_id is not null and right_remote_id is not null`
}

export function createSweep(world: BidiWorld, prng: Prng) {
  const acks = new Map<string, Ack>()
  const key = (side: Side, id: string) => `${side}:${id}`
  let round = 0

  /** One round of human activity; returns how many acknowledged writes it made. */
  async function person(): Promise<number> {
    round++
    const pairs = await links(world)
    const ns = world.elementum.store.namespace('tasks', 'it-requests')!
    const project = world.elean.store.project('web')!
    let made = 0
    const edits = Math.min(pairs.length, prng.int(2, 6))
    for (let i = 0; i < edits; i++) {
      const pair = pairs.splice(prng.int(0, pairs.length - 1), 1)[0]!
      const side: Side = prng.next() < 0.5 ? 'left' : 'right'
      const title = `${side === 'left' ? 'L' : 'R'}${round}-${i}-${prng.hex(4)}`
      const status = prng.next() < 0.5 ? prng.pick(Object.keys(STATUS_TO_RIGHT)) : undefined
      let applied: boolean
      if (side === 'left') {
        const record = ns.byId.get(pair.left)
        applied = !!record && world.elementum.store.update(record, { Title: title, ...(status ? { Status: status } : {}) })
      } else {
        const task = project.tasks.get(pair.right)
        const statusId = status ? project.statuses.find((s) => s.name === STATUS_TO_RIGHT[status])?.id : undefined
        applied = !!task && world.elean.store.editTask(task, { title, ...(statusId ? { statusId } : {}) }, 'if-changed')
      }
      if (!applied) continue
      // the pair's other side is now expected to follow this one
      acks.delete(key(side === 'left' ? 'right' : 'left', side === 'left' ? pair.right : pair.left))
      const previous = acks.get(key(side, side === 'left' ? pair.left : pair.right))
      const sideStatus = status && side === 'right' ? STATUS_TO_RIGHT[status] : status
      acks.set(key(side, side === 'left' ? pair.left : pair.right), {
        side,
        id: side === 'left' ? pair.left : pair.right,
        title,
        ...(sideStatus ? { status: sideStatus } : previous?.status ? { status: previous.status } : {}),
      })
      made++
    }
    for (let i = prng.int(0, 2); i > 0; i--) {
      const title = `NL${round}-${i}-${prng.hex(4)}`
      const record = world.elementum.store.create(ns, { Title: title, Status: 'Open' })
      acks.set(key('left', record.data.id!), { side: 'left', id: record.data.id!, title, status: 'Open' })
      made++
    }
    for (let i = prng.int(0, 2); i > 0; i--) {
      const title = `NR${round}-${i}-${prng.hex(4)}`
      const task = world.elean.store.createTask(project, { title, priority: 'medium' })
      acks.set(key('right', task.id), { side: 'right', id: task.id, title })
      made++
    }
    return made
  }

  /** Lost, duplicated and undelivered, against the acknowledged writes and the outbox; stale: the mirror against the simulators. */
  async function check(): Promise<{ lost: string[]; duplicated: string[]; undelivered: number; stale: string[] }> {
    const now = records(world)
    const stale = await mirrorStale(world, now)
    const pairs = await links(world)
    const counterpart = new Map<string, string>()
    for (const p of pairs) {
      counterpart.set(key('left', p.left), p.right)
      counterpart.set(key('right', p.right), p.left)
    }
    const lost: string[] = []
    const duplicated: string[] = []
    for (const [k, ack] of acks) {
      const own = now[ack.side].get(ack.id)
      if (!own || own.title !== ack.title) {
        lost.push(`${k} ${ack.title}: overwritten on its own side (${own?.title ?? 'gone'})`)
        continue
      }
      const otherSide: Side = ack.side === 'left' ? 'right' : 'left'
      const other = counterpart.get(k)
      const theirs = other === undefined ? undefined : now[otherSide].get(other)
      if (!theirs) lost.push(`${k} ${ack.title}: no counterpart`)
      else if (theirs.title !== ack.title) lost.push(`${k} ${ack.title}: counterpart has "${theirs.title}"`)
      else if (ack.status !== undefined) {
        const want = ack.side === 'left' ? STATUS_TO_RIGHT[ack.status] : Object.entries(STATUS_TO_RIGHT).find(([, r]) => r === ack.status)?.[0]
        if (want !== undefined && theirs.status !== want) lost.push(`${k} ${ack.title}: counterpart status ${theirs.status}, expected ${want}`)
      }
      for (const side of ['left', 'right'] as const) {
        const n = [...now[side].values()].filter((r) => r.title === ack.title).length
        if (n > 1) duplicated.push(`${ack.title} ×${n} on ${side}`)
      }
    }
    const [outbox] = await world.db.sql<{ n: number }[]>`
      select count(*)::int as n from elsync.outbox where state not in ('sent', 'superseded', 'ignored')`
    return { lost, duplicated, undelivered: outbox?.n ?? 0, stale }
  }

  /** Syncs until one writes nothing (at most `max`); returns how many ran, or -1 when it never settled. */
  async function settle(max = 4): Promise<{ runs: number; last: Exit }> {
    let last: Exit | undefined
    for (let i = 1; i <= max; i++) {
      const before = writeCount(world)
      last = await elsyncSync(world)
      if (last.code === 0 && writeCount(world) === before) return { runs: i, last }
    }
    return { runs: -1, last: last! }
  }

  let window: Exit | undefined
  /** One trial: activity, a struck sync, settling, the check. */
  async function trial(n: number, strike: Failpoint | 'random-kill'): Promise<TrialLine> {
    const made = await person()
    let struck: Exit
    let atMs: number | undefined
    if (strike === 'random-kill') {
      // from well before the first stream line of a sync like the last clean one (it is printed when
      // the first stream's poll has ended; before half of that, Node is still starting) to a little after its end
      const lo = 0.5 * (window?.firstLineMs ?? 0)
      atMs = Math.round(lo + prng.next() * (1.05 * (window?.ms ?? 5_000) - lo))
      struck = await elsyncSync(world, { killAtMs: atMs })
      if (!struck.killed && struck.code === 0) window = struck
    } else {
      struck = await elsyncSync(world, { failpoint: strike })
      struck.killed = struck.signal === 'SIGKILL'
    }
    const leasesLeft = await expireLeases(world.db.sql)
    const settled = await settle()
    if (settled.runs > 0 && !window) window = settled.last
    const found = await check()
    return {
      trial: n,
      strike,
      ...(atMs !== undefined && { atMs, window: { firstLineMs: window?.firstLineMs ?? null, ms: window?.ms ?? null } }),
      killed: struck.killed,
      exit: struck.signal ?? struck.code,
      leasesLeft,
      settleRuns: settled.runs,
      acks: made,
      lost: found.lost.length,
      duplicated: found.duplicated.length,
      undelivered: found.undelivered,
      stale: found.stale.length,
      ...(found.lost.length + found.duplicated.length + found.stale.length > 0 && {
        examples: [...found.lost, ...found.duplicated, ...found.stale].slice(0, 5),
      }),
      ...(settled.runs < 0 && { output: settled.last.output.slice(-2000) }),
    }
  }

  /**
   * The check can fail: damage the world by hand (one acknowledged title changed on its
   * counterpart, one acknowledged record created twice) and count what the check finds.
   */
  async function checkTheCheck(): Promise<{ lost: number; duplicated: number; ok: boolean }> {
    const [ack] = [...acks.values()].filter((a) => a.side === 'left')
    const pairs = await links(world)
    const pair = pairs.find((p) => p.left === ack?.id)
    if (!ack || !pair) return { lost: 0, duplicated: 0, ok: false }
    const project = world.elean.store.project('web')!
    world.elean.store.editTask(project.tasks.get(pair.right)!, { title: `${ack.title}-damaged` }, 'always')
    const ns = world.elementum.store.namespace('tasks', 'it-requests')!
    const other = [...acks.values()].find((a) => a !== ack)!
    if (other.side === 'left') world.elementum.store.create(ns, { Title: other.title, Status: 'Open' })
    else world.elean.store.createTask(project, { title: other.title })
    const found = await check()
    return { lost: found.lost.length, duplicated: found.duplicated.length, ok: found.lost.length >= 1 && found.duplicated.length >= 1 }
  }

  return { person, settle, check, trial, checkTheCheck }
}

/** The strikes of a sweep: every named fail-point once, then `randomKills` random SIGKILLs. */
export function strikes(randomKills: number): (Failpoint | 'random-kill')[] {
  return [...FAILPOINTS, ...Array.from({ length: randomKills }, () => 'random-kill' as const)]
}

export function addUp(total: SweepTotals, line: TrialLine): void {
  total.trials++
  if (line.killed) total.killed++
  total.lost += line.lost
  total.duplicated += line.duplicated
  total.undelivered += line.undelivered
  total.stale += line.stale
  if (line.settleRuns < 0) total.unsettled++
}
