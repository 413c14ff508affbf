import { compileRsql } from './rsql.js'
import type { Page, RemoteRecord } from './types.js'

/**
 * A stream's `filter` applied after reading (for APIs that cannot filter server-side).
 * Selectors name the source's own fields (`status`, `priority`, `customerName`, …) or the
 * normalized columns (`title`, `status`, `status_category`, `external_key`, …).
 * A record that stops matching leaves the mirror like a deleted one, on the next full scan.
 */

/** A field's value as a filter compares it: text, a number or boolean as text, an object by its `name`. */
export function scalar(v: unknown): string | undefined {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (v && typeof v === 'object' && typeof (v as { name?: unknown }).name === 'string') return (v as { name: string }).name
  return undefined
}

export function filterView(r: RemoteRecord): Record<string, string> {
  const view: Record<string, string> = {}
  const put = (k: string, v: unknown) => {
    const s = scalar(v)
    if (s !== undefined) view[k] = s
  }
  if (r.document && typeof r.document === 'object') for (const [k, v] of Object.entries(r.document)) put(k, v)
  for (const [k, v] of Object.entries(r.fields ?? {})) put(k, v)
  put('remote_id', r.remoteId)
  put('external_key', r.externalKey)
  put('title', r.title)
  put('status', r.status)
  put('status_category', r.statusCategory)
  put('priority', r.priority)
  put('due_at', r.dueAt)
  put('remote_updated_at', r.remoteUpdatedAt)
  return view
}

/** Keeps the records (and their children) that match `filter`; throws RsqlSyntaxError on a bad filter. */
export function createPageFilter(filter: string): (page: Page) => Page {
  const matches = compileRsql(filter)
  return (page) => {
    const records = page.records.filter((r) => matches(filterView(r)))
    if (records.length === page.records.length) return page
    const kept = new Set(records.map((r) => r.remoteId))
    return { ...childrenOnlyOf(page, (p) => kept.has(p)), records }
  }
}

/** The page with its child sets narrowed to the parents `keep` accepts. */
export function childrenOnlyOf(page: Page, keep: (parent: string) => boolean): Page {
  const narrow = <T extends { parentRemoteId: string }>(set: { parents: readonly string[]; items: readonly T[] } | undefined) =>
    set && { parents: set.parents.filter(keep), items: set.items.filter((i) => keep(i.parentRemoteId)) }
  const out: Page = { ...page }
  const comments = narrow(page.comments)
  const attachments = narrow(page.attachments)
  const relations = narrow(page.relations)
  const watchers = narrow(page.watchers)
  if (comments) out.comments = comments
  if (attachments) out.attachments = attachments
  if (relations) out.relations = relations
  if (watchers) out.watchers = watchers
  return out
}
