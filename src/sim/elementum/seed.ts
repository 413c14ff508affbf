import { createPrng, prngUuid, SimHttpError, type Fault, type Prng } from '../common/index.js'
import { PRIORITIES, STATUSES, type ElementumStore, type FieldPatch, type Namespace, type RecordType } from './store.js'
import { DIRECTORY_USERS, type ElementumUser } from './users.js'

/** Deterministic fake records for `/_sim/seed` and for paging drift. */

const DAY_MS = 86_400_000
const VERBS = ['Review', 'Update', 'Migrate', 'Audit', 'Renew', 'Approve', 'Fix', 'Plan', 'Archive', 'Onboard']
const NOUNS = [
  'supplier contract',
  'invoice batch',
  'laptop request',
  'access policy',
  'purchase order',
  'vendor risk file',
  'quarterly report',
  'firewall rule',
]
const DETAILS = ['Requested by finance.', 'Blocked on legal sign-off.', 'Follow-up from the weekly sync.', 'Customer escalation.', 'Routine maintenance.']

function midnightIso(ms: number): string {
  return new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString()
}

/** Fields of one plausible record created at `createdAtMs`; Assignee is sometimes absent. */
export function fakeFields(prng: Prng, n: number, createdAtMs: number): FieldPatch {
  const fields: FieldPatch = {
    Title: `${prng.pick(VERBS)} ${prng.pick(NOUNS)} ${n}`,
    Description: `${prng.pick(DETAILS)} ${prng.pick(DETAILS)}`,
    Status: prng.pick(STATUSES),
    Priority: prng.pick(PRIORITIES),
    'Due Date': midnightIso(createdAtMs + prng.int(1, 45) * DAY_MS),
  }
  if (prng.next() < 0.9) fields.Assignee = prng.pick(DIRECTORY_USERS).email
  return fields
}

export interface SeedResult {
  recordType: RecordType
  alias: string
  count: number
  firstId: string | null
  lastId: string | null
}

export const MAX_SEED_COUNT = 1_000_000

/**
 * Adds `count` records to a namespace (creating it), with Created on spread over the past
 * 30 days of simulated time and inserted oldest first, Updated on between creation and now.
 */
export function seedNamespace(store: ElementumStore, recordType: RecordType, alias: string, count: number, seed: number): SeedResult {
  if (!Number.isInteger(count) || count < 0 || count > MAX_SEED_COUNT) throw new SimHttpError(400, `count must be an integer between 0 and ${MAX_SEED_COUNT}`)
  const ns = store.ensureNamespace(recordType, alias)
  const prng = createPrng(seed)
  const now = store.clock.now()
  const created = Array.from({ length: count }, () => now - prng.int(0, 30 * DAY_MS)).sort((a, b) => a - b)
  // people from a generator of their own, so that adding them changed no other seeded value
  const people = createPrng(seed ^ 0xb1a)
  let firstId: string | null = null
  let lastId: string | null = null
  for (const createdAtMs of created) {
    const fields = fakeFields(prng, ns.nextNumber, createdAtMs)
    const updatedAtMs = createdAtMs + prng.int(0, now - createdAtMs)
    const by = people.pick(DIRECTORY_USERS)
    const updatedBy = updatedAtMs === createdAtMs ? by : people.pick(DIRECTORY_USERS)
    const id = store.create(ns, fields, { createdAtMs, updatedAtMs, by, updatedBy }).data.id ?? null
    firstId ??= id
    lastId = id
  }
  return { recordType, alias, count, firstId, lastId }
}

/** Paging drift: a human deletes the `fault.delete` oldest records and adds `fault.insert` new ones. */
export function applyDrift(store: ElementumStore, ns: Namespace, fault: Pick<Fault, 'insert' | 'delete'>, prng: Prng): void {
  for (const seq of ns.order.slice(0, fault.delete ?? 0)) {
    const record = ns.bySeq.get(seq)
    if (record) store.remove(record)
  }
  const now = store.clock.now()
  for (let i = 0; i < (fault.insert ?? 0); i++)
    store.create(ns, fakeFields(prng, ns.nextNumber, now), { by: DIRECTORY_USERS[i % DIRECTORY_USERS.length] as ElementumUser })
}

const COMMENTS = [
  'Picked this up; will update by Friday.',
  'Waiting on the vendor to confirm the new terms.',
  'Can we split this into two requests?',
  'Approved by the budget owner.',
  'Reopened: the first fix did not cover the EU region.',
  'Attached the signed copy.',
]
const ATTACHMENT_NAMES = ['quote.pdf', 'signed-contract.pdf', 'screenshot.png', 'requirements.txt', 'asset-list.csv']
const MEDIA_TYPES: Readonly<Record<string, string>> = { pdf: 'application/pdf', png: 'image/png', txt: 'text/plain', csv: 'text/csv' }

/** How much activity `seedActivity` gives a namespace: the share of records with each kind of child. */
export interface ActivityShares {
  comments: number
  attachments: number
  related: number
}

const DEFAULT_SHARES: ActivityShares = { comments: 0.4, attachments: 0.25, related: 0.2 }

/**
 * Comments, attachments (small files, already processed, and url-links) and related items on
 * a share of a namespace's records, as people would have left them in the web UI. Leaves
 * `Updated on` alone, as the real API does when only children change.
 */
export function seedActivity(store: ElementumStore, ns: Namespace, seed: number, shares: ActivityShares = DEFAULT_SHARES): void {
  const prng = createPrng(seed ^ 0xac71)
  const records = ns.order.flatMap((seq) => ns.bySeq.get(seq) ?? [])
  const now = store.clock.now()
  for (const record of records) {
    const createdMs = Date.parse(record.data['Created on'] ?? '') || now
    const when = () => new Date(createdMs + prng.int(0, Math.max(0, now - createdMs))).toISOString()
    if (prng.next() < shares.comments) {
      // oldest first, and sequence numbers (what cursors point into) in list order
      const times = Array.from({ length: prng.int(1, 3) }, when).sort()
      for (const createdAt of times) {
        const source = prng.next() < 0.8 ? ('WEB' as const) : ('WORKFLOW' as const)
        record.comments.push({
          seq: store.nextSeq(),
          id: prngUuid(prng),
          createdAt,
          source,
          contents: prng.pick(COMMENTS),
          createdBy: prng.pick(DIRECTORY_USERS),
        })
      }
    }
    if (prng.next() < shares.attachments) {
      const createdAt = when()
      const base = { seq: store.nextSeq(), id: prngUuid(prng), description: '', viewState: 'PRIVATE' as const, createdAt, readyAtMs: Date.parse(createdAt) }
      if (prng.next() < 0.3) {
        const url = `https://intranet.example.com/docs/${record.data.id ?? 'record'}`
        record.attachments.push({ ...base, name: url, mediaType: 'text/uri-list', size: 0, url })
      } else {
        const name = prng.pick(ATTACHMENT_NAMES)
        const content = Buffer.from(`${name} of ${record.data.id ?? 'a record'}\n`)
        const mediaType = MEDIA_TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream'
        record.attachments.push({ ...base, name, mediaType, size: content.length, content })
      }
    }
    if (records.length > 1 && prng.next() < shares.related) {
      const target = prng.pick(records.filter((r) => r !== record))
      record.related.push({ seq: store.nextSeq(), relationId: prngUuid(prng), recordType: target.recordType, alias: target.alias, id: target.data.id ?? '' })
    }
  }
}
