import type { FieldCatalog } from '../../src/engine/catalog.js'
import type { ApplyOptions, ApplyResult, Connector, MirrorStore, WritePayload } from '../../src/engine/ports.js'
import type { Page, RemoteRecord, StreamRef } from '../../src/engine/types.js'
import type { ClaimOptions, OutboxOp, OutboxRow, OutboxStore, PushFailure, PushResult, Side } from '../../src/engine/write.types.js'

/** A clock tests move by hand; store and executor share it. */
export function fakeClock(start = Date.parse('2025-03-01T12:00:00Z')) {
  let t = start
  return { now: () => new Date(t), advance: (ms: number) => void (t += ms), ms: () => t }
}

interface StoredRow {
  row: OutboxRow
  leaseOwner: string | null
  leaseUntil: number
  nextAt: number
  failure: PushFailure | null
  result: PushResult | null
}

/**
 * An in-memory outbox with the claim contract the executor relies on: due rows (pending, or
 * failed with their retry time passed) whose lease is free, in id order, only when no earlier
 * row of the same link is pending, failed or dead (`ordered: false` drops that condition);
 * the claim counts an attempt and fills an update's target from the link once its create is
 * sent. Marks by an owner whose lease ran out are refused.
 */
export function fakeOutbox(clock: { ms: () => number }, o: { ordered?: boolean } = {}) {
  const rows: StoredRow[] = []
  const links = new Map<number, Record<Side, string | null>>()
  const log: string[] = []
  let nextId = 0
  let failClaim: Error | null = null
  let failMarkSent = 0
  let extensions = 0

  const held = (s: StoredRow, owner: string) => s.leaseOwner === owner && s.leaseUntil > clock.ms()
  const unfinished = (s: StoredRow) => s.row.state === 'pending' || s.row.state === 'failed' || s.row.state === 'dead'

  const store: OutboxStore = {
    async claim(c: ClaimOptions) {
      await Promise.resolve()
      if (failClaim) {
        const err = failClaim
        failClaim = null
        throw err
      }
      const t = clock.ms()
      const out: OutboxRow[] = []
      for (const s of [...rows].sort((a, b) => a.row.id - b.row.id)) {
        if (out.length >= c.limit) break
        if (s.row.state !== 'pending' && s.row.state !== 'failed') continue
        if (s.nextAt > t || (s.leaseOwner !== null && s.leaseUntil > t)) continue
        if (o.ordered !== false && rows.some((p) => p.row.linkId === s.row.linkId && p.row.id < s.row.id && unfinished(p))) continue
        s.leaseOwner = c.owner
        s.leaseUntil = t + c.leaseMs
        const link = links.get(s.row.linkId)
        s.row = { ...s.row, attempts: s.row.attempts + 1, remoteId: s.row.remoteId ?? link?.[s.row.target] ?? null }
        out.push(structuredClone(s.row))
      }
      return out
    },
    async markSent(row, owner, result) {
      await Promise.resolve()
      const s = rows.find((r) => r.row.id === row.id)
      if (!s || !held(s, owner)) throw new Error(`lease of row ${row.id} lost`)
      if (failMarkSent > 0) {
        failMarkSent--
        throw new Error('crashed before the mark')
      }
      log.push(`sent ${row.id}`)
      s.row.state = 'sent'
      s.result = result
      s.leaseOwner = null
      if (row.op === 'create') links.set(row.linkId, { ...(links.get(row.linkId) ?? { left: null, right: null }), [row.target]: result.remoteId })
    },
    async markFailed(row, owner, failure) {
      await Promise.resolve()
      const s = rows.find((r) => r.row.id === row.id)
      if (!s || !held(s, owner)) throw new Error(`lease of row ${row.id} lost`)
      log.push(`failed ${row.id} ${failure.code}`)
      s.row.state = failure.retryAt === null ? 'dead' : 'failed'
      s.row.lastError = failure.message
      s.failure = failure
      s.nextAt = failure.retryAt?.getTime() ?? 0
      s.leaseOwner = null
    },
    async prune() {
      return 0
    },
    async extend(ids, owner, leaseMs) {
      await Promise.resolve()
      extensions++
      const kept = rows.filter((s) => ids.includes(s.row.id) && held(s, owner) && (s.row.state === 'pending' || s.row.state === 'failed'))
      for (const s of kept) s.leaseUntil = clock.ms() + leaseMs
      return kept.map((s) => s.row.id)
    },
    async release(ids, owner) {
      await Promise.resolve()
      for (const s of rows) {
        if (!ids.includes(s.row.id) || !held(s, owner)) continue
        log.push(`released ${s.row.id}`)
        s.leaseOwner = null
        s.row.attempts = Math.max(0, s.row.attempts - 1)
      }
    },
    async heldElsewhere(owner) {
      const t = clock.ms()
      return rows
        .filter(
          (s) =>
            (s.row.state === 'pending' || s.row.state === 'failed') && s.nextAt <= t && s.leaseOwner !== owner && s.leaseOwner !== null && s.leaseUntil > t,
        )
        .map((s) => s.row.id)
    },
    async retry(id) {
      const s = rows.find((r) => r.row.id === id && r.row.state === 'dead')
      if (!s) return false
      s.row.state = 'pending'
      return true
    },
  }

  function enqueue(r: {
    linkId: number
    op: OutboxOp
    connection?: string
    target?: Side
    remoteId?: string | null
    values?: Record<string, unknown>
  }): number {
    const id = ++nextId
    const row: OutboxRow = {
      id,
      mappingId: 'm',
      linkId: r.linkId,
      target: r.target ?? 'right',
      stream: { connection: r.connection ?? 'B', stream: 'tasks' },
      op: r.op,
      remoteId: r.remoteId ?? null,
      values: r.values ?? { title: `row ${id}` },
      ...(r.op === 'create' ? { marker: `elsync:m:${r.linkId}` } : {}),
      decisions: [],
      state: 'pending',
      attempts: 0,
      lastError: null,
      createdAt: new Date(clock.ms()),
    }
    rows.push({ row, leaseOwner: null, leaseUntil: 0, nextAt: 0, failure: null, result: null })
    return id
  }

  const get = (id: number) => rows.find((r) => r.row.id === id) as StoredRow
  return {
    store,
    enqueue,
    get,
    log,
    /** Heartbeats the store answered. */
    extensions: () => extensions,
    links,
    failNextClaim: (err: Error) => void (failClaim = err),
    failNextMarkSent: () => void (failMarkSent = 1),
  }
}

type Op = 'create' | 'update' | 'delete' | 'find'

/** A vendor holding records in memory; `script` queues an error or a hook for an operation's next call. */
export function fakeVendor(name: string, calls: string[], o: { deletes?: boolean; description?: string } = {}) {
  const descriptionName = o.description ?? 'description'
  const records = new Map<string, RemoteRecord>()
  const queued: Record<Op, (Error | (() => Promise<void> | void))[]> = { create: [], update: [], delete: [], find: [] }
  let n = 0
  const payloads: WritePayload[] = []

  /** A queued Error fails the call before it writes; a queued hook runs after the write (throwing there loses the answer). */
  async function step(op: Op, write: () => RemoteRecord | null): Promise<RemoteRecord | null> {
    await Promise.resolve()
    const next = queued[op].shift()
    if (next instanceof Error) throw next
    const rec = write()
    await next?.()
    return rec
  }
  const save = (id: string, payload: WritePayload): RemoteRecord => {
    const rec: RemoteRecord = {
      remoteId: id,
      title: String(payload.title ?? ''),
      description: (payload[descriptionName] as string | undefined) ?? null,
      document: { ...payload, id },
    }
    records.set(id, rec)
    return rec
  }

  const fields: FieldCatalog = {
    // like Elementum's: any unknown name is taken as a writable text field
    field: (_s, field) => ({ name: field, kind: field === descriptionName ? 'longtext' : 'text', writable: true }),
    read: () => undefined,
    normalize: (_s, _f, v) => v,
    toPayload: async (_s, values) => ({ ...values }),
  }
  const connector: Connector = {
    kind: 'fake',
    async *read() {},
    readsFully: () => false,
    filtersServerSide: () => false,
    check: async () => {},
    stats: () => ({ requests: 0, budgetLeft: null, budgetPerMinute: null, skewMs: 0 }),
    fields,
    records: {
      async create(_stream, payload) {
        calls.push(`${name} create ${String(payload.title)}`)
        payloads.push(payload)
        return (await step('create', () => save(`${name}-${++n}`, payload))) as RemoteRecord
      },
      async update(_stream, remoteId, payload) {
        calls.push(`${name} update ${remoteId} ${String(payload.title)}`)
        return (await step('update', () => save(remoteId, payload))) as RemoteRecord
      },
      async findByMarker(_stream, marker) {
        calls.push(`${name} find ${marker}`)
        return step('find', () => [...records.values()].find((r) => r.description?.split('\n').includes(marker)) ?? null)
      },
      ...(o.deletes
        ? {
            async delete(_stream: string, remoteId: string) {
              calls.push(`${name} delete ${remoteId}`)
              await step('delete', () => (records.delete(remoteId), null))
            },
          }
        : {}),
    },
  }
  return { connector, records, payloads, script: (op: Op, e: Error | (() => Promise<void> | void)) => void queued[op].push(e) }
}

export function fakeMirror(log: string[] = []) {
  const applied: { stream: StreamRef; page: Page; opts: ApplyOptions | undefined }[] = []
  const mirror: MirrorStore = {
    async applyPage(stream, page, opts): Promise<ApplyResult> {
      applied.push({ stream, page, opts })
      log.push(`apply ${page.records.map((r) => r.remoteId).join(',')} outbox ${opts?.outboxId}`)
      return { seen: 1, inserted: 0, updated: 0, restored: 0, unchanged: 0, changes: 0, nulBytesStripped: 0 }
    },
    resetScan: async () => {},
    completeScan: async () => ({ deleted: 0, live: 0, pending: 0 }),
    getCursor: async () => null,
    startRun: async () => 1,
    finishRun: async () => {},
  }
  return { mirror, applied }
}

/** Resolves once `cond` holds; fails after the deadline instead of sleeping a fixed time. */
export async function until(cond: () => boolean, deadlineMs = 5_000): Promise<void> {
  const end = Date.now() + deadlineMs
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met before the deadline')
    await new Promise((r) => setTimeout(r, 2))
  }
}
