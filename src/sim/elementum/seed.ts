import { createPrng, SimHttpError, type Fault, type Prng } from '../common/index.js'
import { PRIORITIES, STATUSES, type ElementumStore, type FieldPatch, type Namespace, type RecordType } from './store.js'
import { DIRECTORY_USERS } from './users.js'

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
  let firstId: string | null = null
  let lastId: string | null = null
  for (const createdAtMs of created) {
    const fields = fakeFields(prng, ns.nextNumber, createdAtMs)
    const updatedAtMs = createdAtMs + prng.int(0, now - createdAtMs)
    const id = store.create(ns, fields, { createdAtMs, updatedAtMs }).data.id ?? null
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
  for (let i = 0; i < (fault.insert ?? 0); i++) store.create(ns, fakeFields(prng, ns.nextNumber, now))
}
