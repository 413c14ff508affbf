import { DEFAULT_MARKER, hasAttribution, stripMarker, type MarkerFormat } from '../../engine/attribution.js'
import type { ChildSet, RemoteAttachment, RemoteComment, RemoteRecord } from '../../engine/types.js'
import { firstStr, isObject, otherFields, str, type Json } from '../shared/tolerant.js'
import { category, parseStatus, type EleanComment, type EleanStatus } from './elean.schemas.js'

/**
 * Elean tasks and comments to the common shape. Values are the source's own (native
 * status name, native priority); `remoteId` is the UUID, `externalKey` the human id
 * (`PROJ-42`). Every task field without a column of its own stays in `fields`.
 */

/** Task fields that become normalized columns; the rest go to `fields`. */
export const KNOWN_TASK_FIELDS = [
  'id',
  'externalId',
  'title',
  'description',
  'category',
  'status',
  'priority',
  'dueDate',
  'assignees',
  'createdAt',
  'updatedAt',
] as const

/** A project's statuses, for tasks whose embedded status lacks a name or category. */
export interface StatusLookup {
  byId: ReadonlyMap<string, EleanStatus>
  byName: ReadonlyMap<string, EleanStatus>
}

export function statusLookup(statuses: readonly EleanStatus[]): StatusLookup {
  const byId = new Map<string, EleanStatus>()
  const byName = new Map<string, EleanStatus>()
  for (const s of statuses) {
    if (s.id) byId.set(s.id, s)
    if (s.name) byName.set(s.name.toLowerCase(), s)
  }
  return { byId, byName }
}

/** True when the task alone does not give its status name and category (the status list is needed). */
export function needsStatusList(task: Json): boolean {
  const st = parseStatus(task.status)
  if (!st) return false
  return st.name === null || (st.category === null && category(task.category) === null)
}

function assigneesOf(v: unknown): { id: string | null; name: string | null }[] {
  if (!Array.isArray(v)) return []
  return v.flatMap((a) => {
    if (typeof a === 'string') return [{ id: null, name: a }]
    if (!isObject(a)) return []
    return [{ id: str(a.id), name: firstStr(a, ['name', 'displayName']) }]
  })
}

/** `markers`: the create-marker formats of the mappings, stripped from `description` (the raw text stays in the document). */
export function normalizeTask(task: Json & { id: string }, lookup: StatusLookup | null, markers: readonly MarkerFormat[] = [DEFAULT_MARKER]): RemoteRecord {
  const st = parseStatus(task.status)
  const listed = st && lookup ? ((st.id ? lookup.byId.get(st.id) : undefined) ?? (st.name ? lookup.byName.get(st.name.toLowerCase()) : undefined)) : undefined
  return {
    remoteId: task.id,
    externalKey: str(task.externalId),
    title: str(task.title),
    description: stripMarker(str(task.description), markers),
    status: st?.name ?? listed?.name ?? null,
    statusCategory: st?.category ?? category(task.category) ?? listed?.category ?? null,
    priority: str(task.priority),
    dueAt: str(task.dueDate),
    assignees: assigneesOf(task.assignees),
    fields: otherFields(task, KNOWN_TASK_FIELDS),
    remoteCreatedAt: str(task.createdAt),
    remoteUpdatedAt: str(task.updatedAt),
    document: task,
  }
}

export function normalizeComment(parentRemoteId: string, c: EleanComment): RemoteComment {
  return {
    parentRemoteId,
    commentId: c.id,
    body: c.content,
    author: c.authorName,
    createdAt: c.createdAt,
    // a comment we copied here carries the attribution footer; it must never be copied back
    origin: hasAttribution(c.content) ? 'synced' : 'native',
    document: c.document,
  }
}

/**
 * The attachments the tasks list (`attachments: [{id, filename}]`, part of the task object, so
 * mirrored at no extra request); a task without the list is left out (its stored set stays).
 * Size and type are in each attachment's details only; a presigned URL is never kept.
 */
export function attachmentsOf(tasks: readonly Json[]): ChildSet<RemoteAttachment> {
  const parents: string[] = []
  const items: RemoteAttachment[] = []
  for (const task of tasks) {
    const id = str(task.id)
    if (id === null || !Array.isArray(task.attachments)) continue
    parents.push(id)
    for (const a of task.attachments) {
      const attachmentId = isObject(a) ? str(a.id) : null
      if (attachmentId === null) continue
      const { url: _url, downloadUrl: _downloadUrl, ...document } = a as Json
      items.push({
        parentRemoteId: id,
        attachmentId,
        filename: firstStr(document, ['filename', 'fileName', 'name']),
        mediaType: firstStr(document, ['mimeType', 'mediaType', 'contentType']),
        size: typeof document.size === 'number' ? document.size : null,
        createdAt: firstStr(document, ['createdAt']),
        document,
      })
    }
  }
  return { parents, items }
}
