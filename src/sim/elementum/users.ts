import { createPrng, prngUuid } from '../common/index.js'

/** People of the simulated workspace: assignees, comment authors, watchers. */
export interface ElementumUser {
  id: string
  firstName: string
  lastName: string
  email: string
}

const NAMES: ReadonlyArray<readonly [string, string]> = [
  ['Ada', 'Lovelace'],
  ['Grace', 'Hopper'],
  ['Alan', 'Turing'],
  ['Edsger', 'Dijkstra'],
  ['Barbara', 'Liskov'],
  ['Donald', 'Knuth'],
  ['Frances', 'Allen'],
  ['Ken', 'Thompson'],
]

function makeUsers(): ElementumUser[] {
  const prng = createPrng(0xe1e)
  return NAMES.map(([firstName, lastName]) => ({
    id: prngUuid(prng),
    firstName,
    lastName,
    email: `${firstName}.${lastName}@example.com`.toLowerCase(),
  }))
}

/** The fixed directory; the same ids on every run. */
export const DIRECTORY_USERS: readonly ElementumUser[] = makeUsers()

/** The user the API credentials belong to ("records created via the API are attributed to the API user"). */
export const API_USER: ElementumUser = {
  id: '00000000-0000-4000-a000-00000000a001',
  firstName: 'API',
  lastName: 'Integration',
  email: 'api.integration@example.com',
}

/** A user by id or email among the directory, the API user and `extra` (a workspace's own people). */
export function findUser(ref: { userId?: unknown; email?: unknown }, extra: readonly ElementumUser[] = []): ElementumUser | undefined {
  const all = [...DIRECTORY_USERS, API_USER, ...extra]
  if (typeof ref.userId === 'string') return all.find((u) => u.id === ref.userId)
  if (typeof ref.email === 'string') {
    const email = ref.email.toLowerCase()
    return all.find((u) => u.email === email)
  }
  return undefined
}
