import { DEFAULT_MARKER, hasAttribution, stripMarker, type MarkerFormat } from '../../engine/attribution.js'
import type { RemoteAttachment, RemoteComment, RemoteRecord, RemoteRelation, StatusCategory } from '../../engine/types.js'
import { firstStr, isObject, otherFields, personName, str, type Json } from '../shared/tolerant.js'
import type { RawAttachment, RawComment, RawRelation } from './elementum.schemas.js'

/**
 * Elementum records to the common shape. `data` is keyed by display names; the well-known
 * ones become normalized columns and every other field stays in `fields` under its own name.
 * Values are the source's own (native status and priority names).
 */

/** Status name (case-insensitive) → category; anything else is null (unknown workflow states). */
export const DEFAULT_STATUS_CATEGORIES: Readonly<Record<string, StatusCategory>> = {
  open: 'todo',
  'in progress': 'in_progress',
  closed: 'done',
  done: 'done',
  resolved: 'done',
  cancelled: 'done',
  canceled: 'done',
}

/** Display names that map to normalized columns (the cursor field joins them per stream). */
export const KNOWN_FIELDS = ['id', 'Title', 'Status', 'Priority', 'Due Date', 'Description', 'Assignee', 'Created on', 'Created by', 'Updated by'] as const

export function statusCategory(status: string | null): StatusCategory | null {
  if (status === null) return null
  return DEFAULT_STATUS_CATEGORIES[status.trim().toLowerCase()] ?? null
}

function fullName(o: Json): string | null {
  const name = [str(o.firstName), str(o.lastName)].filter((s): s is string => s !== null && s.trim() !== '').join(' ')
  return name !== '' ? name : null
}

/** `Assignee` is usually one string (a name or an email); accept user objects and lists too. */
export function assigneesOf(v: unknown): { id: string | null; name: string | null }[] {
  if (v === null || v === undefined) return []
  if (Array.isArray(v)) return v.flatMap(assigneesOf)
  if (isObject(v)) {
    const name = firstStr(v, ['name', 'displayName']) ?? fullName(v) ?? str(v.email)
    const id = firstStr(v, ['id', 'userId', 'email'])
    return name === null && id === null ? [] : [{ id, name }]
  }
  const s = str(v)?.trim()
  return s ? [{ id: null, name: s }] : []
}

/** `markers`: the create-marker formats of the mappings, stripped from `description` (the raw text stays in the document). */
export function toRemoteRecord(data: Json & { id: string }, cursorField: string, markers: readonly MarkerFormat[] = [DEFAULT_MARKER]): RemoteRecord {
  const status = str(data.Status)
  return {
    remoteId: data.id,
    externalKey: data.id,
    title: str(data.Title),
    status,
    statusCategory: statusCategory(status),
    priority: str(data.Priority),
    dueAt: str(data['Due Date']),
    description: stripMarker(str(data.Description), markers),
    assignees: assigneesOf(data.Assignee),
    remoteCreatedAt: str(data['Created on']),
    remoteUpdatedAt: str(data[cursorField]),
    // system fields naming the user who created and last saved the record (the API user for API writes)
    createdBy: personName(data['Created by']),
    updatedBy: personName(data['Updated by']),
    fields: otherFields(data, [...KNOWN_FIELDS, cursorField]),
    document: data,
  }
}

export function commentAuthor(createdBy: unknown): string | null {
  if (isObject(createdBy)) return fullName(createdBy) ?? firstStr(createdBy, ['name', 'email', 'id'])
  return str(createdBy)
}

export function toRemoteComment(parentRemoteId: string, c: RawComment): RemoteComment {
  return {
    parentRemoteId,
    commentId: c.id,
    body: c.contents,
    author: commentAuthor(c.createdBy),
    createdAt: c.createdAt,
    // a comment we copied here carries the footer; it must never be copied back
    origin: hasAttribution(c.contents) ? 'synced' : 'native',
    document: c.document,
  }
}

/** A content URL may be presigned; its query string is a credential and stays out of the mirror. */
function withoutQuery(url: unknown): unknown {
  if (typeof url !== 'string' || !URL.canParse(url)) return url
  const u = new URL(url)
  if (u.search === '') return url
  u.search = ''
  return u.toString()
}

export function toRemoteAttachment(parentRemoteId: string, a: RawAttachment): RemoteAttachment {
  const document = 'contentUrl' in a.document ? { ...a.document, contentUrl: withoutQuery(a.document.contentUrl) } : a.document
  return { parentRemoteId, attachmentId: a.id, filename: a.name, mediaType: a.mediaType, size: a.size, createdAt: a.createdAt, document }
}

/**
 * `streamOf(alias)` names the configured stream mirroring that alias (null: not mirrored), so
 * the engine can find the other end; an item without an alias is in the parent's namespace.
 */
export function toRemoteRelation(parentRemoteId: string, r: RawRelation, streamOf: (alias: string | null) => string | null): RemoteRelation {
  return { parentRemoteId, relatedRemoteId: r.id, relatedStream: streamOf(r.alias), relationId: r.relationId }
}
