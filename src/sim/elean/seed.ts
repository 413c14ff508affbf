import { createPrng, prngUuid, type Prng } from '../common/prng.js'
import { PRIORITIES, type Person, type Project, type Status, type TaskFields } from './model.js'

/**
 * Deterministic content for seeded projects and tasks: the same seed, project and
 * starting counter always give the same ids, titles and field values.
 */

/** FNV-1a, to turn a seed plus a project name into a PRNG seed. */
export function hashSeed(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

export function defaultStatuses(slug: string): Status[] {
  const prng = createPrng(hashSeed(`statuses:${slug}`))
  return [
    { id: prngUuid(prng), name: 'To Do', color: '#94a3b8', category: 'todo' },
    { id: prngUuid(prng), name: 'In Progress', color: '#3b82f6', category: 'in_progress' },
    { id: prngUuid(prng), name: 'In Review', color: '#f59e0b', category: 'in_progress' },
    { id: prngUuid(prng), name: 'Done', color: '#22c55e', category: 'done' },
  ]
}

const MEMBER_NAMES = ['Jane Smith', 'Omar Haddad', 'Mei Tanaka', 'Lukas Weber', 'Ana Costa', 'Priya Nair', 'Tom Okafor', 'Sara Lindqvist']

export function defaultMembers(slug: string): Person[] {
  const prng = createPrng(hashSeed(`members:${slug}`))
  return MEMBER_NAMES.map((name) => ({ id: prngUuid(prng), name }))
}

const VERBS = ['Fix', 'Add', 'Refactor', 'Document', 'Investigate', 'Remove', 'Migrate', 'Test', 'Review', 'Speed up']
const NOUNS = [
  'login flow',
  'invoice export',
  'search index',
  'SSO on Safari',
  'billing page',
  'CSV import',
  'audit log',
  'webhook retries',
  'dark mode',
  'onboarding email',
]
const DETAILS = [
  'Reported by a customer on the enterprise plan.',
  'Steps to reproduce are in the linked ticket.\nSeen on staging and production.',
  'Needs a decision from product before we start.',
  'Low risk; can ship behind a flag.',
  'Follow-up from the last incident review.',
]

const DAY = 86_400_000

/** Field values of one generated task, drawn from `prng`. */
export function generateFields(prng: Prng, statuses: readonly Status[], members: readonly Person[], now: number): Required<TaskFields> {
  const title = `${prng.pick(VERBS)} ${prng.pick(NOUNS)} #${prng.int(1, 9999)}`
  const description = prng.next() < 0.2 ? null : prng.pick(DETAILS)
  const dueDate = prng.next() < 0.5 ? null : new Date(Math.floor(now / DAY) * DAY + prng.int(-30, 60) * DAY).toISOString()
  const assignees: Person[] = []
  const n = prng.int(0, 2)
  for (let i = 0; i < n; i++) {
    const m = prng.pick(members)
    if (!assignees.includes(m)) assignees.push(m)
  }
  return {
    title,
    description,
    priority: prng.pick(PRIORITIES),
    dueDate,
    statusId: prng.pick(statuses).id,
    assignees,
  }
}

const COMMENTS = [
  'Reproduced on staging.',
  'I can take this one next sprint.',
  'Customer confirmed the workaround helps for now.',
  'Blocked until the API change ships.',
  'Fixed in the latest build, please verify.',
  'Adding the logs from the incident.',
]

/**
 * Comments by project members on a share of a project's top-level tasks, oldest first and
 * dated between the task's creation and now. Leaves `updatedAt` alone, as the real API does.
 */
export function seedComments(project: Project, seed: number, now: number, share = 0.4): void {
  const prng = createPrng(hashSeed(`comments:${seed}:${project.slug}`))
  for (const task of project.topLevel) {
    if (prng.next() >= share) continue
    const times = Array.from({ length: prng.int(1, 3) }, () => task.createdAt + prng.int(0, Math.max(0, now - task.createdAt))).sort((a, b) => a - b)
    for (const at of times) {
      const authorName = prng.pick(project.members).name
      task.comments.push({ id: prngUuid(prng), content: prng.pick(COMMENTS), authorName, createdAt: at, updatedAt: at })
    }
  }
}
