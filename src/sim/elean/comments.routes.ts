import { parseJsonBody, type SimRoute } from '../common/server.js'
import { API_PREFIX, projectOf, taskOf, type EleanDeps } from './context.js'
import { asObject, readContent } from './fields.js'
import { renderComment } from './model.js'

/** Comments of a task: list (oldest first) and add. Adding one leaves the task's updatedAt alone. */

const P = `${API_PREFIX}/:project/tasks/:taskId/comments`

export function commentRoutes(deps: EleanDeps): SimRoute[] {
  const { store, keys } = deps
  return [
    {
      method: 'GET',
      pattern: P,
      handler: (req) => {
        keys.authorize(req, 'task:read')
        const task = taskOf(deps, projectOf(deps, req), req)
        return { status: 200, body: task.comments.map(renderComment) }
      },
    },
    {
      method: 'POST',
      pattern: P,
      handler: (req) => {
        const key = keys.authorize(req, 'task:update')
        const task = taskOf(deps, projectOf(deps, req), req)
        const content = readContent(asObject(parseJsonBody(req)).content)
        return { status: 201, body: renderComment(store.addComment(task, content, key.name)) }
      },
    },
  ]
}
