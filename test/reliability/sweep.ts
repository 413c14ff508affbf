import { createHash } from 'node:crypto'
import { type ArmedFailpoint, FAILPOINTS, PUSH_FAILPOINTS } from '../../src/app.js'
import type { Prng } from '../../src/sim/common/prng.js'
import { type BidiWorld, DYING_RUN_ENV, elsyncSync, type Exit, heldLeases, writeCount } from '../support/bidi-world.js'

/**
 * The bidirectional kill sweep (issue 13), checked like a Jepsen set. Between trials a person
 * edits titles and statuses of linked records (each pair on one side only, so that no conflict
 * policy decides), creates records, and adds comments and small attachments on both sides,
 * every value a unique token; each change the simulator accepted is an acknowledged write.
 * Then `elsync sync` is SIGKILLed at a named fail-point (the push points also narrowed to a
 * comment or an attachment sent to either vendor) or at a random moment, the world is settled
 * (syncs until one writes nothing), and per kind (record, comment, attachment):
 * - every acknowledged write is on its own side, on the counterpart and in the mirror (lost = 0);
 * - every token is there exactly once per side, in the vendors and in the mirror (duplicated = 0);
 * - nothing is left undelivered in the outbox, and the mirror equals the vendors (stale = 0);
 * - right after the kill and after settling, no stream's saved cursor is ahead of the saved data:
 *   every vendor record changed before the cursor's time is in the mirror as it is now (cursorAhead = 0).
 */

const MAPPING = 'it-requests'
/** The example mapping's status value map: Elementum → Elean. */
const STATUS_TO_RIGHT: Record<string, string> = { Open: 'To Do', 'In Progress': 'In Progress', Closed: 'Done' }
/** What the example mapping copies besides records (it has no related items: Elean has none). */
const CHILD_KINDS = ['comment', 'attachment'] as const
const KINDS = ['record', ...CHILD_KINDS] as const
const TARGETS = ['elementum', 'elean'] as const

type Side = 'left' | 'right'
type ChildKind = (typeof CHILD_KINDS)[number]
export type Kind = (typeof KINDS)[number]
export type PerKind = Record<Kind, number>
/** A named fail-point, `elsync sync` SIGKILLed at a random moment, or the daemon (`elsync run`) SIGKILLed at one. */
export type Strike = ArmedFailpoint | 'random-kill' | 'daemon-kill'
export const isRandom = (s: Strike): s is 'random-kill' | 'daemon-kill' => s === 'random-kill' || s === 'daemon-kill'

const perKind = (): PerKind => ({ record: 0, comment: 0, attachment: 0 })
/** The lengths of per-kind lists (in KINDS order). */
const countOf = (lists: string[][]): PerKind => Object.fromEntries(KINDS.map((k, i) => [k, lists[i]!.length])) as PerKind

/**
 * The world's connection settings for a sweep: every poll reads every record's children (the
 * child round-robin's budget above the records), so that a sync that writes nothing means
 * every comment and attachment has been read, and settling cannot stop before one is copied.
 */
export const SWEEP_CONNECTIONS = { elementum: { childBudget: 10_000 }, elean: { childBudget: 10_000 } }
const other = (side: Side): Side => (side === 'left' ? 'right' : 'left')
const sha = (b: Buffer | undefined) => (b ? createHash('sha256').update(b).digest('hex').slice(0, 16) : null)

interface RecordAck {
  side: Side
  id: string
  title: string
  /** In the side's own terms. */
  status?: string
}

/** A comment (its text holds `[token]`) or an attachment (named `token`) the person added. */
interface ChildAck {
  kind: ChildKind
  side: Side
  recordId: string
  token: string
  /** An attachment's content. */
  sha?: string
}

export interface TrialLine {
  trial: number
  strike: Strike
  atMs?: number
  /** The clean sync the random moment was drawn against. */
  window?: { firstLineMs: number | null; ms: number | null }
  killed: boolean
  exit: string | number | null
  leasesLeft: number
  settleRuns: number
  acks: PerKind
  lost: PerKind
  duplicated: PerKind
  undelivered: number
  /** The mirror against the simulators after settling. */
  stale: number
  /** Records changed before a stream's saved cursor that the mirror lacks or holds in an older state, after the kill and after settling. */
  cursorAhead: number
  /** Where the struck sync was when it died, from what it had printed (see `phaseOf`). */
  phase: Phase
  /** The trial's wall time: activity, the struck sync, settling and the checks. */
  ms: number
  examples?: string[]
  output?: string
}

export interface SweepTotals {
  trials: number
  killed: number
  /** Of `killed`, those at a random moment (of `elsync sync` or the daemon). */
  randomKills: number
  /** Of `randomKills`, those of the daemon. */
  daemonKills: number
  /** Random kills by the phase they struck. */
  phases: Record<Phase, number>
  acks: PerKind
  lost: PerKind
  duplicated: PerKind
  undelivered: number
  stale: number
  cursorAhead: number
  unsettled: number
}

export const emptyTotals = (): SweepTotals => ({
  trials: 0,
  killed: 0,
  randomKills: 0,
  daemonKills: 0,
  phases: { start: 0, poll: 0, reconcile: 0, push: 0, end: 0 },
  acks: perKind(),
  lost: perKind(),
  duplicated: perKind(),
  undelivered: 0,
  stale: 0,
  cursorAhead: 0,
  unsettled: 0,
})

/** Whether anything was lost, duplicated, left undelivered, stale, ahead or unsettled. */
export const damaged = (t: SweepTotals): boolean =>
  KINDS.some((k) => t.lost[k] + t.duplicated[k] > 0) || t.undelivered + t.stale + t.cursorAhead + t.unsettled > 0

const PHASES = ['start', 'poll', 'reconcile', 'push', 'end'] as const
export type Phase = (typeof PHASES)[number]

/**
 * How far a sync or the daemon got, from its output: `start` (no page read yet: Node, config,
 * database; the daemon: until it says it runs), `poll` (pages read), `reconcile` (a poll's
 * summary printed, the daemon's `stream run finished`), `push` (the mapping's reconcile line,
 * the daemon's `reconciled`, or a write pushed), `end` (the sync's push summary printed).
 */
export function phaseOf(output: string): Phase {
  if (/^pushed: /m.test(output)) return 'end'
  if (/^mapping /m.test(output) || /"msg":"(reconciled|pushed)"/.test(output)) return 'push'
  if (/ succeeded$/m.test(output) || output.includes('"msg":"stream run finished"')) return 'reconcile'
  if (/ page \d+: /m.test(output) || output.includes('"msg":"elsync running"')) return 'poll'
  return 'start'
}

interface RecordView {
  title: string
  status: string | null
  /** The vendor's last-change stamp (ms). */
  updatedAt: number
}
interface ChildView {
  recordId: string
  /** A comment's text, an attachment's name. */
  text: string
  sha?: string | null
}

/** Each side's records and children now, straight from the simulators. */
function vendors(w: BidiWorld) {
  const ns = w.elementum.store.namespace('tasks', 'it-requests')!
  const project = w.elean.store.project('web')!
  const records: Record<Side, Map<string, RecordView>> = { left: new Map(), right: new Map() }
  const children: Record<Side, Record<ChildKind, ChildView[]>> = { left: { comment: [], attachment: [] }, right: { comment: [], attachment: [] } }
  for (const seq of ns.order) {
    const r = ns.bySeq.get(seq)!
    const id = r.data.id
    if (!id) continue
    records.left.set(id, { title: (r.data.Title ?? '').trim(), status: r.data.Status ?? null, updatedAt: Date.parse(r.data['Updated on'] ?? '') })
    for (const c of r.comments) children.left.comment.push({ recordId: id, text: c.contents })
    for (const a of r.attachments) children.left.attachment.push({ recordId: id, text: a.name, sha: sha(a.content) })
  }
  for (const t of project.topLevel) {
    const status = project.statuses.find((s) => s.id === t.statusId)?.name ?? null
    records.right.set(t.id, { title: t.title.trim(), status, updatedAt: t.updatedAt })
    for (const c of t.comments) children.right.comment.push({ recordId: t.id, text: c.content })
    for (const a of t.attachments) children.right.attachment.push({ recordId: t.id, text: a.filename, sha: sha(a.data) })
  }
  return { records, children }
}
type Vendors = ReturnType<typeof vendors>

const STREAMS = `((connection = 'elementum' and stream = 'it-requests') or (connection = 'elean' and stream = 'web'))`
const sideOf = (connection: string): Side => (connection === 'elementum' ? 'left' : 'right')

/** The mirror's live records by `side:id` → title. */
async function mirroredTitles(w: BidiWorld): Promise<Map<string, string>> {
  const rows = await w.db.sql<{ connection: string; remote_id: string; title: string | null }[]>`
    select connection, remote_id, title from elsync.records where deleted_at is null and ${w.db.sql.unsafe(STREAMS)}`
  return new Map(rows.map((r) => [`${sideOf(r.connection)}:${r.remote_id}`, r.title?.trim() ?? '']))
}

/** Records of either simulator the mirror lacks or holds with another title, and mirrored records the simulators no longer have. */
async function mirrorStale(w: BidiWorld, now: Vendors): Promise<string[]> {
  const mirrored = await mirroredTitles(w)
  const stale: string[] = []
  for (const side of ['left', 'right'] as const) {
    for (const [id, r] of now.records[side]) {
      const m = mirrored.get(`${side}:${id}`)
      if (m !== r.title) stale.push(`${side}:${id} mirror has ${m === undefined ? 'nothing' : `"${m}"`}, vendor "${r.title}"`)
    }
  }
  const project = w.elean.store.project('web')!
  for (const k of mirrored.keys()) {
    const [side, id] = k.split(/:(.*)/s) as [Side, string]
    const known = side === 'left' ? now.records.left.has(id) : project.tasks.has(id)
    if (!known) stale.push(`${k} mirrored live, gone at the vendor`)
  }
  return stale
}

/**
 * The cursor never runs ahead of the saved data: a stream's cursor (Elementum `since`, Elean
 * `lastScanAt`, both the server's time when the read began) is saved with the read's last page,
 * so every record the vendor changed before that time must be in the mirror as it is now.
 * Elsync's own pushes come after the read and carry later stamps.
 */
async function cursorAhead(w: BidiWorld, now: Vendors): Promise<string[]> {
  const rows = await w.db.sql<{ connection: string; cursor: { since?: string; lastScanAt?: string } | null }[]>`
    select connection, cursor from elsync.stream_state where ${w.db.sql.unsafe(STREAMS)}`
  const mirrored = await mirroredTitles(w)
  const ahead: string[] = []
  for (const row of rows) {
    const side = sideOf(row.connection)
    const at = Date.parse(row.cursor?.since ?? row.cursor?.lastScanAt ?? '')
    if (Number.isNaN(at)) continue
    for (const [id, r] of now.records[side]) {
      if (r.updatedAt >= at) continue
      const m = mirrored.get(`${side}:${id}`)
      if (m !== r.title)
        ahead.push(
          `${side}:${id} changed ${new Date(r.updatedAt).toISOString()}, before the cursor ${new Date(at).toISOString()}; mirror has ${m ?? 'nothing'}`,
        )
    }
  }
  return ahead
}

async function links(w: BidiWorld): Promise<{ left: string; right: string }[]> {
  return w.db.sql<{ left: string; right: string }[]>`
    select left_remote_id as left, right_remote_id as right from elsync.links
    where mapping_id = ${MAPPING} and left_remote_id is not null and right_remote_id is not null`
}

/** The mirror's comment texts and attachment names per side. */
async function mirroredChildren(w: BidiWorld): Promise<Record<Side, Record<ChildKind, string[]>>> {
  const out: Record<Side, Record<ChildKind, string[]>> = { left: { comment: [], attachment: [] }, right: { comment: [], attachment: [] } }
  const comments = await w.db.sql<{ connection: string; text: string | null }[]>`
    select connection, body as text from elsync.record_comments where ${w.db.sql.unsafe(STREAMS)}`
  const attachments = await w.db.sql<{ connection: string; text: string | null }[]>`
    select connection, filename as text from elsync.record_attachments where ${w.db.sql.unsafe(STREAMS)}`
  for (const c of comments) out[sideOf(c.connection)].comment.push(c.text ?? '')
  for (const a of attachments) out[sideOf(a.connection)].attachment.push(a.text ?? '')
  return out
}

/** Whether a comment's text or an attachment's name is the copy (or the original) of `ack`. */
const holds = (ack: Pick<ChildAck, 'kind' | 'token'>, text: string): boolean => (ack.kind === 'comment' ? text.includes(`[${ack.token}]`) : text === ack.token)

/** The fail-points a sweep strikes: each named point, and each push point narrowed to a comment and an attachment sent to either vendor. */
export function namedStrikes(): ArmedFailpoint[] {
  const narrowed = PUSH_FAILPOINTS.flatMap((point) => CHILD_KINDS.flatMap((op) => TARGETS.map((target) => `${point}@${op}/${target}` as const)))
  return [...FAILPOINTS, ...narrowed]
}

/** The `n`th random strike (from 0): every fourth kills the daemon, the others `elsync sync`. */
export const randomStrike = (n: number): 'random-kill' | 'daemon-kill' => (n % 4 === 3 ? 'daemon-kill' : 'random-kill')

/** The child a narrowed strike needs in flight: `push:after-send@comment/elean` a comment added in Elementum to a linked record. */
function neededBy(strike: Strike): { kind: ChildKind; side: Side } | null {
  const m = /@(comment|attachment)\/(elementum|elean)$/.exec(strike)
  return m ? { kind: m[1] as ChildKind, side: m[2] === 'elean' ? 'left' : 'right' } : null
}

export function createSweep(world: BidiWorld, prng: Prng) {
  const acks = new Map<string, RecordAck>()
  const childAcks: ChildAck[] = []
  const key = (side: Side, id: string) => `${side}:${id}`
  let round = 0

  function addChild(kind: ChildKind, side: Side, recordId: string, i: number): boolean {
    const token = `${kind === 'comment' ? 'C' : 'A'}${side === 'left' ? 'L' : 'R'}${round}-${i}-${prng.hex(6)}`
    if (side === 'left') {
      const record = world.elementum.store.namespace('tasks', 'it-requests')!.byId.get(recordId)
      if (!record) return false
      if (kind === 'comment') {
        world.elementum.store.addComment(record, {
          contents: `Checked the printer [${token}]`,
          source: 'WEB',
          author: { id: 'u1', firstName: 'Grace', lastName: 'Hopper', email: 'grace.hopper@example.com' },
        })
        childAcks.push({ kind, side, recordId, token })
      } else {
        const content = Buffer.from(`${token}\n`.repeat(prng.int(1, 200)))
        const now = world.elementum.store.clock.now()
        record.attachments.push({
          ...{ seq: world.elementum.store.nextSeq(), id: `att-${token}`, name: token, description: '', mediaType: 'text/plain' },
          ...{ size: content.length, viewState: 'PRIVATE', createdAt: new Date(now).toISOString(), readyAtMs: now, content },
        })
        childAcks.push({ kind, side, recordId, token, sha: sha(content)! })
      }
      return true
    }
    const task = world.elean.store.project('web')!.tasks.get(recordId)
    if (!task) return false
    if (kind === 'comment') {
      world.elean.store.addComment(task, `Works again [${token}]`, 'Mei Tanaka')
      childAcks.push({ kind, side, recordId, token })
    } else {
      const data = Buffer.from(`${token}\n`.repeat(prng.int(1, 200)))
      world.elean.store.addAttachment(task, { filename: token, mimeType: 'text/plain', data })
      childAcks.push({ kind, side, recordId, token, sha: sha(data)! })
    }
    return true
  }

  /** One round of human activity; returns the acknowledged writes it made per kind. `need`: a child it must add to a linked record. */
  async function person(need: { kind: ChildKind; side: Side } | null = null): Promise<PerKind> {
    round++
    const pairs = await links(world)
    const linked = { left: pairs.map((p) => p.left), right: pairs.map((p) => p.right) }
    const ns = world.elementum.store.namespace('tasks', 'it-requests')!
    const project = world.elean.store.project('web')!
    const made = perKind()
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
      acks.delete(key(other(side), side === 'left' ? pair.right : pair.left))
      const previous = acks.get(key(side, side === 'left' ? pair.left : pair.right))
      const sideStatus = status && side === 'right' ? STATUS_TO_RIGHT[status] : status
      acks.set(key(side, side === 'left' ? pair.left : pair.right), {
        side,
        id: side === 'left' ? pair.left : pair.right,
        title,
        ...(sideStatus ? { status: sideStatus } : previous?.status ? { status: previous.status } : {}),
      })
      made.record++
    }
    const fresh: Record<Side, string[]> = { left: [], right: [] }
    for (let i = prng.int(0, 2); i > 0; i--) {
      const title = `NL${round}-${i}-${prng.hex(4)}`
      const record = world.elementum.store.create(ns, { Title: title, Status: 'Open' })
      acks.set(key('left', record.data.id!), { side: 'left', id: record.data.id!, title, status: 'Open' })
      fresh.left.push(record.data.id!)
      made.record++
    }
    for (let i = prng.int(0, 2); i > 0; i--) {
      const title = `NR${round}-${i}-${prng.hex(4)}`
      const task = world.elean.store.createTask(project, { title, priority: 'medium' })
      acks.set(key('right', task.id), { side: 'right', id: task.id, title })
      fresh.right.push(task.id)
      made.record++
    }
    // comments and attachments on linked records and on records created just now (their copies wait for the link)
    let i = 0
    if (need && linked[need.side].length > 0 && addChild(need.kind, need.side, prng.pick(linked[need.side]), i++)) made[need.kind]++
    for (const kind of CHILD_KINDS) {
      for (let n = kind === 'comment' ? prng.int(1, 3) : prng.int(0, 2); n > 0; n--) {
        const side: Side = prng.next() < 0.5 ? 'left' : 'right'
        const candidates = [...linked[side], ...fresh[side]]
        if (candidates.length > 0 && addChild(kind, side, prng.pick(candidates), i++)) made[kind]++
      }
    }
    return made
  }

  /** Lost and duplicated per kind, against the acknowledged writes; undelivered: the outbox; stale: the mirror against the simulators. */
  async function check(): Promise<{ lost: string[][]; duplicated: string[][]; undelivered: number; stale: string[]; cursorAhead: string[] }> {
    const now = vendors(world)
    const stale = await mirrorStale(world, now)
    const pairs = await links(world)
    const counterpart = new Map<string, string>()
    for (const p of pairs) {
      counterpart.set(key('left', p.left), p.right)
      counterpart.set(key('right', p.right), p.left)
    }
    const lost: Record<Kind, string[]> = { record: [], comment: [], attachment: [] }
    const duplicated: Record<Kind, string[]> = { record: [], comment: [], attachment: [] }
    for (const [k, ack] of acks) {
      const own = now.records[ack.side].get(ack.id)
      if (!own || own.title !== ack.title) {
        lost.record.push(`${k} ${ack.title}: overwritten on its own side (${own?.title ?? 'gone'})`)
        continue
      }
      const otherSide = other(ack.side)
      const counter = counterpart.get(k)
      const theirs = counter === undefined ? undefined : now.records[otherSide].get(counter)
      if (!theirs) lost.record.push(`${k} ${ack.title}: no counterpart`)
      else if (theirs.title !== ack.title) lost.record.push(`${k} ${ack.title}: counterpart has "${theirs.title}"`)
      else if (ack.status !== undefined) {
        const want = ack.side === 'left' ? STATUS_TO_RIGHT[ack.status] : Object.entries(STATUS_TO_RIGHT).find(([, r]) => r === ack.status)?.[0]
        if (want !== undefined && theirs.status !== want) lost.record.push(`${k} ${ack.title}: counterpart status ${theirs.status}, expected ${want}`)
      }
      for (const side of ['left', 'right'] as const) {
        const n = [...now.records[side].values()].filter((r) => r.title === ack.title).length
        if (n > 1) duplicated.record.push(`${ack.title} ×${n} on ${side}`)
      }
    }
    const mirrored = await mirroredChildren(world)
    for (const ack of childAcks) {
      const what = `${ack.kind} ${ack.token} (${ack.side}:${ack.recordId})`
      const own = now.children[ack.side][ack.kind].filter((c) => holds(ack, c.text))
      if (!own.some((c) => c.recordId === ack.recordId)) lost[ack.kind].push(`${what}: gone on its own side`)
      const counter = counterpart.get(key(ack.side, ack.recordId))
      const copies = now.children[other(ack.side)][ack.kind].filter((c) => holds(ack, c.text))
      const onCounterpart = copies.filter((c) => c.recordId === counter)
      if (onCounterpart.length === 0)
        lost[ack.kind].push(`${what}: not on the counterpart ${counter ?? '(none)'}${copies.length > 0 ? `, but on ${copies[0]!.recordId}` : ''}`)
      else if (ack.sha !== undefined && !onCounterpart.some((c) => c.sha === ack.sha)) lost[ack.kind].push(`${what}: the copy's content differs`)
      for (const side of ['left', 'right'] as const) {
        const atVendor = side === ack.side ? own.length : copies.length
        if (atVendor > 1) duplicated[ack.kind].push(`${what} ×${atVendor} on ${side}`)
        const inMirror = mirrored[side][ack.kind].filter((t) => holds(ack, t)).length
        if (inMirror === 0 && atVendor > 0) lost[ack.kind].push(`${what}: not in the mirror of ${side}`)
        if (inMirror > 1) duplicated[ack.kind].push(`${what} ×${inMirror} in the mirror of ${side}`)
      }
    }
    const [outbox] = await world.db.sql<{ n: number }[]>`
      select count(*)::int as n from elsync.outbox where state not in ('sent', 'superseded', 'ignored')`
    return {
      lost: KINDS.map((k) => lost[k]),
      duplicated: KINDS.map((k) => duplicated[k]),
      undelivered: outbox?.n ?? 0,
      stale,
      cursorAhead: await cursorAhead(world, now),
    }
  }

  /**
   * Syncs until one writes nothing (at most `max`); returns how many ran (-1 when it never
   * settled), the last, and the first that wrote (a busy sync, what random moments are drawn in).
   */
  async function settle(max = 4): Promise<{ runs: number; last: Exit; busy?: Exit }> {
    let last: Exit | undefined
    let busy: Exit | undefined
    for (let i = 1; i <= max; i++) {
      const before = writeCount(world)
      last = await elsyncSync(world)
      const quiet = writeCount(world) === before
      if (!quiet && !busy && last.code === 0) busy = last
      if (last.code === 0 && quiet) return { runs: i, last, ...(busy && { busy }) }
    }
    return { runs: -1, last: last!, ...(busy && { busy }) }
  }

  let window: Exit | undefined
  /** One trial: activity, a struck sync, the cursor check, settling, the check. */
  async function trial(n: number, strike: Strike): Promise<TrialLine> {
    const started = Date.now()
    const made = await person(neededBy(strike))
    let struck: Exit
    let atMs: number | undefined
    if (strike === 'daemon-kill') {
      // the daemon polls every connection at start-up, reconciles and pushes, then waits for its
      // schedule: a moment from half the first stream line of a busy sync to half again its end
      // (the daemon starts its admin API and metrics too)
      const lo = 0.5 * (window?.firstLineMs ?? 0)
      atMs = Math.round(lo + prng.next() * (1.5 * (window?.ms ?? 5_000) - lo))
      struck = await elsyncSync(world, { command: 'run', killAtMs: atMs, env: { ELSYNC_ADMIN_PORT: '0', ...DYING_RUN_ENV } })
    } else if (strike === 'random-kill') {
      // from well before the first stream line of a sync like the last busy one (a sync that wrote:
      // the line is printed when the first stream's poll has ended; before half of that, Node is
      // still starting) to its end, so that kills fall in polls, reconciles and pushes
      const lo = 0.5 * (window?.firstLineMs ?? 0)
      atMs = Math.round(lo + prng.next() * ((window?.ms ?? 5_000) - lo))
      struck = await elsyncSync(world, { killAtMs: atMs, env: DYING_RUN_ENV })
    } else {
      struck = await elsyncSync(world, { failpoint: strike, env: DYING_RUN_ENV })
      struck.killed = struck.signal === 'SIGKILL'
    }
    const ahead = await cursorAhead(world, vendors(world))
    // what the dead run still held: the settling runs take it over once its 2 s leases end
    const leasesLeft = await heldLeases(world.db.sql)
    const settled = await settle()
    const drawnIn = window
    if (settled.busy) window = settled.busy
    const found = await check()
    const problems = [...found.lost.flat(), ...found.duplicated.flat(), ...found.stale, ...ahead, ...found.cursorAhead]
    return {
      trial: n,
      strike,
      ...(atMs !== undefined && { atMs, window: { firstLineMs: drawnIn?.firstLineMs ?? null, ms: drawnIn?.ms ?? null } }),
      killed: struck.killed,
      exit: struck.signal ?? struck.code,
      leasesLeft,
      settleRuns: settled.runs,
      acks: made,
      lost: countOf(found.lost),
      duplicated: countOf(found.duplicated),
      undelivered: found.undelivered,
      stale: found.stale.length,
      cursorAhead: ahead.length + found.cursorAhead.length,
      phase: phaseOf(struck.output),
      ms: Date.now() - started,
      ...(problems.length > 0 && { examples: problems.slice(0, 6) }),
      ...(settled.runs < 0 && { output: settled.last.output.slice(-2000) }),
    }
  }

  /**
   * The check can fail: damage the world by hand and count what the check finds. Per kind, one
   * acknowledged write is lost on the other side (a title changed on the counterpart, a
   * comment's or attachment's copy removed) and one duplicated (a record created again, a copy
   * added again); and a stream's cursor is moved past a vendor change the mirror has not seen.
   */
  async function checkTheCheck(): Promise<{ lost: PerKind; duplicated: PerKind; cursorAhead: number; ok: boolean }> {
    const none = { lost: perKind(), duplicated: perKind(), cursorAhead: 0, ok: false }
    const ns = world.elementum.store.namespace('tasks', 'it-requests')!
    const project = world.elean.store.project('web')!
    const pairs = await links(world)
    const counterpartOf = (side: Side, id: string) => pairs.find((p) => p[side] === id)?.[other(side)]
    // records: a left ack's title changed on its counterpart, another ack created again
    const [ack] = [...acks.values()].filter((a) => a.side === 'left' && counterpartOf('left', a.id) !== undefined)
    const second = [...acks.values()].find((a) => a !== ack)
    if (!ack || !second) return none
    world.elean.store.editTask(project.tasks.get(counterpartOf('left', ack.id)!)!, { title: `${ack.title}-damaged` }, 'always')
    if (second.side === 'left') world.elementum.store.create(ns, { Title: second.title, Status: 'Open' })
    else world.elean.store.createTask(project, { title: second.title })
    // children: per kind the copy of one ack removed, the copy of another added again
    for (const kind of CHILD_KINDS) {
      const [gone, twice] = childAcks.filter((c) => c.kind === kind && c.side === 'left' && counterpartOf('left', c.recordId) !== undefined)
      if (!gone || !twice) return none
      const removeFrom = project.tasks.get(counterpartOf('left', gone.recordId)!)!
      const addTo = project.tasks.get(counterpartOf('left', twice.recordId)!)!
      if (kind === 'comment') {
        removeFrom.comments.splice(
          removeFrom.comments.findIndex((c) => holds(gone, c.content)),
          1,
        )
        world.elean.store.addComment(addTo, addTo.comments.find((c) => holds(twice, c.content))!.content, 'Grace Hopper')
      } else {
        removeFrom.attachments.splice(
          removeFrom.attachments.findIndex((a) => holds(gone, a.filename)),
          1,
        )
        const copy = addTo.attachments.find((a) => holds(twice, a.filename))!
        world.elean.store.addAttachment(addTo, { filename: copy.filename, mimeType: copy.mimeType, data: copy.data })
      }
    }
    // the cursor: Elementum's moved an hour ahead, then a record changed there (before that time)
    await world.db.sql`
      update elsync.stream_state set cursor = jsonb_build_object('since', to_char((now() + interval '1 hour') at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
      where connection = 'elementum' and stream = 'it-requests'`
    world.elementum.store.update(ns.bySeq.get(ns.order[0]!)!, { Title: `cursor-check-${prng.hex(4)}` })
    const found = await check()
    const lost = countOf(found.lost)
    const duplicated = countOf(found.duplicated)
    const ok = KINDS.every((k) => lost[k] >= 1 && duplicated[k] >= 1) && found.cursorAhead.length >= 1
    return { lost, duplicated, cursorAhead: found.cursorAhead.length, ok }
  }

  return { person, settle, check, trial, checkTheCheck }
}

export function addUp(total: SweepTotals, line: TrialLine): void {
  total.trials++
  if (line.killed) total.killed++
  if (line.killed && isRandom(line.strike)) {
    total.randomKills++
    if (line.strike === 'daemon-kill') total.daemonKills++
    total.phases[line.phase]++
  }
  for (const k of KINDS) {
    total.acks[k] += line.acks[k]
    total.lost[k] += line.lost[k]
    total.duplicated[k] += line.duplicated[k]
  }
  total.undelivered += line.undelivered
  total.stale += line.stale
  total.cursorAhead += line.cursorAhead
  if (line.settleRuns < 0) total.unsettled++
}
