import { intParam, parseJsonBody, type SimRequest, type SimRoute } from '../common/server.js'
import { API_PREFIX, projectOf, taskOf, type EleanDeps } from './context.js'
import { readCategory, readPriority, readTaskFields } from './fields.js'
import { renderTask } from './model.js'
import type { ListQuery } from './store.js'

/** Statuses and tasks: list, get, create, update, delete. */

const P = `${API_PREFIX}/:project`

function listQuery(req: SimRequest): ListQuery {
  const q: ListQuery = {
    page: intParam(req, 'page', 1, 1, Number.MAX_SAFE_INTEGER),
    limit: intParam(req, 'limit', 20, 1, 100),
  }
  const statusId = req.query.get('statusId')
  if (statusId) q.statusId = statusId
  const status = req.query.get('status')
  if (status) q.status = readCategory(status)
  const priority = req.query.get('priority')
  if (priority) q.priority = readPriority(priority)
  const search = req.query.get('search')
  if (search) q.search = search
  return q
}

export function taskRoutes(deps: EleanDeps): SimRoute[] {
  const { store, keys } = deps
  return [
    {
      method: 'GET',
      pattern: `${P}/statuses`,
      handler: (req) => {
        keys.authorize(req, 'task:read')
        return { status: 200, body: projectOf(deps, req).statuses.map((s) => ({ ...s })) }
      },
    },
    {
      method: 'GET',
      pattern: `${P}/tasks`,
      handler: (req) => {
        keys.authorize(req, 'task:read')
        const project = projectOf(deps, req)
        const q = listQuery(req)
        // Paging drift: rows appear/disappear at the head between two page reads.
        const drift = deps.server().faults.take(req.path, ['drift'])
        if (drift) store.drift(project, drift.insert ?? 0, drift.delete ?? 0)
        const { rows, total } = store.list(project, q)
        const totalPages = Math.ceil(total / q.limit)
        return {
          status: 200,
          body: {
            tasks: rows.map((t) => renderTask(project, t)),
            meta: { total, page: q.page, limit: q.limit, totalPages, hasMore: q.page * q.limit < total },
          },
        }
      },
    },
    {
      method: 'POST',
      pattern: `${P}/tasks`,
      handler: (req) => {
        keys.authorize(req, 'task:create')
        const project = projectOf(deps, req)
        const fields = readTaskFields(parseJsonBody(req), project, 'create')
        // The docs: priority defaults to medium on create (the store's own default, none, is a human's blank task).
        const task = store.createTask(project, { ...fields, title: fields.title ?? '', priority: fields.priority ?? 'medium' })
        return { status: 201, body: renderTask(project, task) }
      },
    },
    {
      method: 'GET',
      pattern: `${P}/tasks/:taskId`,
      handler: (req) => {
        keys.authorize(req, 'task:read')
        const project = projectOf(deps, req)
        return { status: 200, body: renderTask(project, taskOf(deps, project, req)) }
      },
    },
    {
      method: 'PATCH',
      pattern: `${P}/tasks/:taskId`,
      handler: (req) => {
        keys.authorize(req, 'task:update')
        const project = projectOf(deps, req)
        const task = taskOf(deps, project, req)
        // Documented quirk: an API PATCH moves updatedAt even when no value changed.
        store.editTask(task, readTaskFields(parseJsonBody(req), project, 'update'), 'always')
        return { status: 200, body: renderTask(project, task) }
      },
    },
    {
      method: 'DELETE',
      pattern: `${P}/tasks/:taskId`,
      handler: (req) => {
        keys.authorize(req, 'task:update')
        const project = projectOf(deps, req)
        store.deleteTask(project, taskOf(deps, project, req))
        // the documented answer
        return { status: 200, body: { success: true } }
      },
    },
  ]
}
