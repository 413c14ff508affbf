import type { SimClock } from '../common/clock.js'
import { createPrng, prngUuid, type Prng } from '../common/prng.js'
import type { Attachment, Category, Comment, Priority, Project, Task, TaskFields } from './model.js'
import { defaultMembers, defaultStatuses, generateFields, hashSeed } from './seed.js'

/**
 * In-memory projects, tasks, comments and attachments of the Elean simulator.
 * Callers validate input (see fields.ts); the store only applies it.
 */

export interface ListQuery {
  statusId?: string
  status?: Category
  priority?: Priority
  search?: string
  page: number
  limit: number
}

export interface CreateOptions {
  id?: string
  parentId?: string | null
  /** Put the task at the head of the list order instead of the tail (paging drift). */
  atHead?: boolean
  createdAt?: number
  updatedAt?: number
}

export interface NewAttachment {
  filename: string
  mimeType: string
  data: Buffer
}

export interface EleanStore {
  readonly projects: ReadonlyMap<string, Project>
  project(slug: string): Project | undefined
  ensureProject(slug: string, key?: string): Project
  /** By UUID or by external id (case-insensitive). */
  findTask(project: Project, ref: string): Task | undefined
  createTask(project: Project, fields: TaskFields & { title: string }, opts?: CreateOptions): Task
  /** Applies `fields`; returns whether any value changed. `always` bumps updatedAt regardless. */
  editTask(task: Task, fields: TaskFields, bump: 'always' | 'if-changed'): boolean
  /** Deletes a task and its subtasks. */
  deleteTask(project: Project, task: Task): void
  addComment(task: Task, content: string, authorName: string): Comment
  addAttachment(task: Task, file: NewAttachment): Attachment
  list(project: Project, q: ListQuery): { rows: Task[]; total: number }
  seed(slug: string, count: number, seed: number, subtasks?: number): { created: number }
  /** Deletes `del` tasks at the head of the order, then inserts `insert` new ones there. */
  drift(project: Project, insert: number, del: number): void
  newId(): string
}

const MINUTE = 60_000

export function createEleanStore(opts: { clock: SimClock; seed: number }): EleanStore {
  const { clock } = opts
  const prng: Prng = createPrng(hashSeed(`store:${opts.seed}`))
  const projects = new Map<string, Project>()
  const newId = (): string => prngUuid(prng)

  // updatedAt strictly increases, so two writes within one millisecond still differ.
  const touch = (task: Task): void => {
    task.updatedAt = Math.max(clock.now(), task.updatedAt + 1)
  }

  const ensureProject = (slug: string, key?: string): Project => {
    const existing = projects.get(slug)
    if (existing) return existing
    const project: Project = {
      slug,
      key: key?.toUpperCase() ?? (slug.toUpperCase().replace(/[^A-Z0-9]/g, '') || 'PROJ'),
      statuses: defaultStatuses(slug),
      members: defaultMembers(slug),
      tasks: new Map(),
      byExternalId: new Map(),
      topLevel: [],
      children: new Map(),
      counter: 0,
    }
    projects.set(slug, project)
    return project
  }

  const createTask = (project: Project, fields: TaskFields & { title: string }, o: CreateOptions = {}): Task => {
    const now = clock.now()
    project.counter += 1
    const createdAt = o.createdAt ?? now
    const task: Task = {
      id: o.id ?? newId(),
      externalId: `${project.key}-${project.counter}`,
      title: fields.title,
      description: fields.description ?? null,
      statusId: fields.statusId ?? project.statuses.find((s) => s.category === 'todo')?.id ?? null,
      priority: fields.priority ?? 'none',
      dueDate: fields.dueDate ?? null,
      assignees: fields.assignees ?? [],
      attachments: [],
      comments: [],
      parentId: o.parentId ?? null,
      createdAt,
      updatedAt: o.updatedAt ?? createdAt,
    }
    project.tasks.set(task.id, task)
    project.byExternalId.set(task.externalId, task)
    if (task.parentId !== null) {
      const siblings = project.children.get(task.parentId)
      if (siblings) siblings.push(task)
      else project.children.set(task.parentId, [task])
    } else if (o.atHead) project.topLevel.unshift(task)
    else project.topLevel.push(task)
    return task
  }

  const deleteTask = (project: Project, task: Task): void => {
    if (!project.tasks.delete(task.id)) return
    project.byExternalId.delete(task.externalId)
    for (const child of project.children.get(task.id) ?? []) deleteTask(project, child)
    project.children.delete(task.id)
    if (task.parentId === null) {
      const i = project.topLevel.indexOf(task)
      if (i >= 0) project.topLevel.splice(i, 1)
    } else {
      const siblings = project.children.get(task.parentId)
      const i = siblings?.indexOf(task) ?? -1
      if (siblings && i >= 0) siblings.splice(i, 1)
    }
  }

  const editTask = (task: Task, fields: TaskFields, bump: 'always' | 'if-changed'): boolean => {
    let changed = false
    const set = <K extends 'title' | 'description' | 'priority' | 'dueDate' | 'statusId'>(k: K, v: Task[K] | undefined): void => {
      if (v === undefined || task[k] === v) return
      task[k] = v
      changed = true
    }
    set('title', fields.title)
    set('description', fields.description)
    set('priority', fields.priority)
    set('dueDate', fields.dueDate)
    set('statusId', fields.statusId)
    if (fields.assignees && fields.assignees.map((a) => a.id).join() !== task.assignees.map((a) => a.id).join()) {
      task.assignees = fields.assignees
      changed = true
    }
    if (changed || bump === 'always') touch(task)
    return changed
  }

  const list = (project: Project, q: ListQuery): { rows: Task[]; total: number } => {
    let rows = project.topLevel
    const needle = q.search ? q.search.toLowerCase() : undefined
    if (q.statusId !== undefined || q.status !== undefined || q.priority !== undefined || needle !== undefined) {
      const categoryOf = new Map(project.statuses.map((s) => [s.id, s.category]))
      const byCategory = q.statusId === undefined ? q.status : undefined
      rows = rows.filter(
        (t) =>
          (q.statusId === undefined || t.statusId === q.statusId) &&
          (byCategory === undefined || (categoryOf.get(t.statusId ?? '') ?? 'todo') === byCategory) &&
          (q.priority === undefined || t.priority === q.priority) &&
          // The docs: `search` looks in the title and the external id, not the description.
          (needle === undefined || t.title.toLowerCase().includes(needle) || t.externalId.toLowerCase().includes(needle)),
      )
    }
    const start = (q.page - 1) * q.limit
    return { rows: rows.slice(start, start + q.limit), total: rows.length }
  }

  const seed = (slug: string, count: number, seedValue: number, subtasks = 0): { created: number } => {
    const project = ensureProject(slug)
    const rnd = createPrng(hashSeed(`${seedValue}:${slug}:${project.counter}`))
    const now = clock.now()
    const from = project.topLevel.length
    for (let i = 0; i < count; i++) {
      const fields = generateFields(rnd, project.statuses, project.members, now)
      // Spread creation over the past, one task a minute, oldest first.
      const createdAt = now - (count - i) * MINUTE
      createTask(project, fields, { id: prngUuid(rnd), createdAt, updatedAt: createdAt + rnd.int(0, MINUTE - 1) })
    }
    const parents = project.topLevel.slice(from)
    for (let i = 0; i < subtasks && parents.length > 0; i++) {
      const parent = rnd.pick(parents)
      createTask(project, generateFields(rnd, project.statuses, project.members, now), { id: prngUuid(rnd), parentId: parent.id })
    }
    return { created: count + (parents.length > 0 ? subtasks : 0) }
  }

  return {
    projects,
    project: (slug) => projects.get(slug),
    ensureProject,
    findTask: (project, ref) => project.tasks.get(ref) ?? project.byExternalId.get(ref.toUpperCase()),
    createTask,
    editTask,
    deleteTask,
    addComment: (task, content, authorName) => {
      const now = clock.now()
      const comment: Comment = { id: newId(), content, authorName, createdAt: now, updatedAt: now }
      task.comments.push(comment)
      return comment
    },
    addAttachment: (task, file) => {
      const attachment: Attachment = { id: newId(), taskId: task.id, size: file.data.length, createdAt: clock.now(), ...file }
      task.attachments.push(attachment)
      // The task's `attachments` list is part of the task object, so its updatedAt moves.
      touch(task)
      return attachment
    },
    list,
    seed,
    drift: (project, insert, del) => {
      for (const task of project.topLevel.slice(0, del)) deleteTask(project, task)
      for (let i = 0; i < insert; i++) {
        createTask(project, generateFields(prng, project.statuses, project.members, clock.now()), { atHead: true })
      }
    },
    newId,
  }
}
