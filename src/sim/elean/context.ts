import type { SimClock } from '../common/clock.js'
import { SimHttpError, type SimRequest, type SimServer } from '../common/server.js'
import type { Keyring } from './auth.js'
import type { Project, Task } from './model.js'
import type { EleanStore } from './store.js'

/** What the route files share. `server()` is late-bound: routes exist before the server listens. */
export interface EleanDeps {
  store: EleanStore
  keys: Keyring
  clock: SimClock
  server: () => SimServer
  maxAttachmentBytes: number
}

/** The public API's path prefix, also the `baseUrl` a client uses. */
export const API_PREFIX = '/v1/public'

export function projectOf(deps: EleanDeps, req: SimRequest): Project {
  const slug = req.params.project ?? ''
  const project = deps.store.project(slug)
  if (!project) throw new SimHttpError(404, `Project ${slug} not found`)
  return project
}

export function taskOf(deps: EleanDeps, project: Project, req: SimRequest): Task {
  const ref = req.params.taskId ?? ''
  const task = deps.store.findTask(project, ref)
  if (!task) throw new SimHttpError(404, `Task ${ref} not found`)
  return task
}
