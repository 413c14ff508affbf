/**
 * The Elean simulator's data model and its JSON renderings. Timestamps are kept as
 * epoch milliseconds of the simulated clock and rendered as ISO strings on the way out.
 */

export type Category = 'todo' | 'in_progress' | 'done'
export const CATEGORIES: readonly Category[] = ['todo', 'in_progress', 'done']

export type Priority = 'none' | 'low' | 'medium' | 'high' | 'urgent'
export const PRIORITIES: readonly Priority[] = ['none', 'low', 'medium', 'high', 'urgent']

export interface Status {
  id: string
  name: string
  color: string
  category: Category
}

export interface Person {
  id: string
  name: string
}

export interface Comment {
  id: string
  content: string
  authorName: string
  createdAt: number
  updatedAt: number
}

export interface Attachment {
  id: string
  taskId: string
  filename: string
  mimeType: string
  size: number
  data: Buffer
  createdAt: number
}

export interface Task {
  id: string
  externalId: string
  title: string
  description: string | null
  statusId: string | null
  priority: Priority
  dueDate: string | null
  assignees: Person[]
  attachments: Attachment[]
  comments: Comment[]
  parentId: string | null
  createdAt: number
  updatedAt: number
}

export interface Project {
  slug: string
  /** Upper-case prefix of external ids (`WEB` in `WEB-42`). */
  key: string
  statuses: Status[]
  /** Workspace members that seeded and human-edited tasks are assigned to. */
  members: Person[]
  /** Every task, subtasks included, by UUID (Map order = creation order). */
  tasks: Map<string, Task>
  byExternalId: Map<string, Task>
  /** Top-level tasks in list order, so a page is a slice rather than a scan. */
  topLevel: Task[]
  /** Subtasks by parent UUID, so deleting a parent does not scan the project. */
  children: Map<string, Task[]>
  counter: number
}

/** Validated, normalized values a create or an edit may set. */
export interface TaskFields {
  title?: string
  description?: string | null
  priority?: Priority
  dueDate?: string | null
  statusId?: string
  assignees?: Person[]
}

export interface TaskJson {
  id: string
  externalId: string
  title: string
  description: string | null
  category: Category
  status: Status | null
  priority: Priority
  dueDate: string | null
  assignees: Person[]
  attachments: { id: string; filename: string }[]
  parentId: string | null
  createdAt: string
  updatedAt: string
}

export interface CommentJson {
  id: string
  content: string
  authorName: string
  createdAt: string
  updatedAt: string
}

const iso = (ms: number): string => new Date(ms).toISOString()

export function statusOf(project: Project, task: Task): Status | undefined {
  return task.statusId === null ? undefined : project.statuses.find((s) => s.id === task.statusId)
}

export function renderTask(project: Project, task: Task): TaskJson {
  const status = statusOf(project, task)
  return {
    id: task.id,
    externalId: task.externalId,
    title: task.title,
    description: task.description,
    category: status?.category ?? 'todo',
    status: status ? { ...status } : null,
    priority: task.priority,
    dueDate: task.dueDate,
    assignees: task.assignees.map((a) => ({ id: a.id, name: a.name })),
    attachments: task.attachments.map((a) => ({ id: a.id, filename: a.filename })),
    parentId: task.parentId,
    createdAt: iso(task.createdAt),
    updatedAt: iso(task.updatedAt),
  }
}

export function renderComment(c: Comment): CommentJson {
  return { id: c.id, content: c.content, authorName: c.authorName, createdAt: iso(c.createdAt), updatedAt: iso(c.updatedAt) }
}
