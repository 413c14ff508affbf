import { parseJsonBody, SimHttpError, type SimRequest, type SimRoute } from '../common/server.js'
import { isScope, type KeySpec } from './auth.js'
import { projectOf, taskOf, type EleanDeps } from './context.js'
import { asObject, readAssignees, readContent, readTaskFields } from './fields.js'
import { renderComment, renderTask, type Project, type TaskFields } from './model.js'

/**
 * Elean control routes, mounted under `/_sim`: seeding, projects, edits as a human
 * would make them in the UI (no key, no rate limit), a full dump for mirror
 * comparison, and key issuance.
 */

const bad = (message: string): SimHttpError => new SimHttpError(400, message)

function nonNegativeInt(v: unknown, field: string, dflt?: number): number {
  if (v === undefined && dflt !== undefined) return dflt
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw bad(`${field} must be a non-negative integer`)
  return v
}

function slugOf(v: unknown): string {
  if (typeof v !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(v)) throw bad('project must be a slug of letters, digits, - and _')
  return v
}

export function controlRoutes(deps: EleanDeps, seedDefault: number): SimRoute[] {
  const { store } = deps

  // Human edits take the API's fields plus assignees.
  const humanFields = (body: Record<string, unknown>, project: Project, mode: 'create' | 'update'): TaskFields => {
    const fields = readTaskFields(body, project, mode)
    if (body.assignees !== undefined) fields.assignees = readAssignees(body.assignees, project, store.newId)
    return fields
  }
  const controlProject = (req: SimRequest): Project => projectOf(deps, req)

  return [
    {
      method: 'POST',
      pattern: '/seed',
      handler: (req) => {
        const b = asObject(parseJsonBody(req))
        const slug = slugOf(b.project)
        const count = nonNegativeInt(b.count, 'count')
        const result = store.seed(slug, count, nonNegativeInt(b.seed, 'seed', seedDefault), nonNegativeInt(b.subtasks, 'subtasks', 0))
        const project = store.ensureProject(slug)
        return { status: 201, body: { project: slug, created: result.created, total: project.topLevel.length } }
      },
    },
    {
      method: 'POST',
      pattern: '/projects/:project',
      handler: (req) => {
        const slug = slugOf(req.params.project)
        const b = asObject(parseJsonBody(req))
        if (b.key !== undefined && (typeof b.key !== 'string' || !/^[A-Za-z][A-Za-z0-9]*$/.test(b.key))) throw bad('key must be letters and digits')
        const existed = store.project(slug) !== undefined
        const project = store.ensureProject(slug, b.key as string | undefined)
        return { status: existed ? 200 : 201, body: { project: slug, key: project.key, statuses: project.statuses } }
      },
    },
    {
      method: 'POST',
      pattern: '/tasks/:project',
      handler: (req) => {
        const project = controlProject(req)
        const b = asObject(parseJsonBody(req))
        const fields = humanFields(b, project, 'create')
        let parentId: string | null = null
        if (b.parentId !== undefined && b.parentId !== null) {
          const parent = typeof b.parentId === 'string' ? store.findTask(project, b.parentId) : undefined
          if (!parent) throw bad(`parentId ${String(b.parentId)} is not a task of project ${project.slug}`)
          parentId = parent.id
        }
        const task = store.createTask(project, { ...fields, title: fields.title ?? '' }, { parentId })
        return { status: 201, body: renderTask(project, task) }
      },
    },
    {
      method: 'GET',
      pattern: '/tasks/:project',
      handler: (req) => {
        const project = controlProject(req)
        const tasks = [...project.tasks.values()].map((t) => ({ ...renderTask(project, t), comments: t.comments.map(renderComment) }))
        return { status: 200, body: { project: project.slug, statuses: project.statuses, tasks } }
      },
    },
    {
      method: 'POST',
      pattern: '/tasks/:project/:taskId/edit',
      handler: (req) => {
        const project = controlProject(req)
        const task = taskOf(deps, project, req)
        const b = asObject(parseJsonBody(req))
        const body = typeof b.fields === 'object' && b.fields !== null ? asObject(b.fields) : b
        // A human edit moves updatedAt only when a value really changed.
        const changed = store.editTask(task, humanFields(body, project, 'update'), 'if-changed')
        return { status: 200, body: { changed, task: renderTask(project, task) } }
      },
    },
    {
      method: 'POST',
      pattern: '/tasks/:project/:taskId/comments',
      handler: (req) => {
        const task = taskOf(deps, controlProject(req), req)
        const b = asObject(parseJsonBody(req))
        const author = b.authorName ?? 'Jane Smith'
        if (typeof author !== 'string' || author.trim() === '') throw bad('authorName must be a non-empty string')
        return { status: 201, body: renderComment(store.addComment(task, readContent(b.content), author)) }
      },
    },
    {
      method: 'DELETE',
      pattern: '/tasks/:project/:taskId',
      handler: (req) => {
        const project = controlProject(req)
        store.deleteTask(project, taskOf(deps, project, req))
        return { status: 204 }
      },
    },
    {
      method: 'POST',
      pattern: '/keys',
      handler: (req) => {
        const b = asObject(parseJsonBody(req))
        const spec: KeySpec = {}
        if (b.scopes !== undefined) {
          if (!Array.isArray(b.scopes) || !b.scopes.every(isScope)) throw bad('scopes must be an array of task:read, task:create, task:update')
          spec.scopes = b.scopes
        }
        if (b.project !== undefined) spec.project = slugOf(b.project)
        if (b.expiresInMs !== undefined) {
          if (typeof b.expiresInMs !== 'number' || !Number.isFinite(b.expiresInMs)) throw bad('expiresInMs must be a number')
          spec.expiresInMs = b.expiresInMs
        }
        if (b.name !== undefined) {
          if (typeof b.name !== 'string' || b.name === '') throw bad('name must be a non-empty string')
          spec.name = b.name
        }
        return { status: 201, body: { key: deps.keys.add(spec) } }
      },
    },
  ]
}
