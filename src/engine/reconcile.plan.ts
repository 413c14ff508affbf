import { attachmentPlanLine } from './children.attachments.js'
import { fieldLabel, sameValue } from './project.js'
import type { FieldDecision, MappingSpec, OutboxRequest } from './write.types.js'

/**
 * One line per planned write, as `elsync sync --dry-run` prints it:
 *   create elean/web ← elementum TSK-12 "Title"
 *   update elementum TSK-4 Status: Open → Closed, Title: Laptop → New laptop
 *   delete elean WEB-7
 *   relate elementum-b TSK-3 → TSK-5        (unrelate likewise)
 *   watch elementum-b TSK-3 ada.lovelace@example.com
 */

export interface PlanInfo {
  /** The mapping, to name each changed field by its target name's decision. */
  mapping?: MappingSpec
  /** The record whose change planned the write (a create's source). */
  source?: { connection: string; key: string }
  /** The target record's human key (external key), else its remote id. */
  targetKey?: string | null
  /** A create's title. */
  title?: string | null
}

const PLAIN = /^[\p{L}\p{N} _.,:;/@+#&()'-]{1,60}$/u

/** A value as a short readable word: plain text as it is, anything else (or long) as truncated JSON. */
function show(v: unknown): string {
  if (v === null || v === undefined || v === '') return '∅'
  if (typeof v === 'string' && PLAIN.test(v)) return v
  const s = JSON.stringify(v) ?? String(v)
  return s.length > 60 ? `${s.slice(0, 57)}...` : s
}

/** The decision behind one target field: by the mapping's field of that name, else by the value written. */
function decisionOf(req: OutboxRequest, name: string, value: unknown, mapping: MappingSpec | undefined): FieldDecision | undefined {
  const f = mapping?.fields.find((m) => m[req.target] === name)
  const label = f && fieldLabel(f)
  return req.decisions.find((d) => d.target === req.target && (label ? d.field === label : sameValue(d.written, value)))
}

export function planLine(req: OutboxRequest, info: PlanInfo = {}): string {
  const target = req.stream
  switch (req.op) {
    case 'create': {
      const from = info.source ? ` ← ${info.source.connection} ${info.source.key}` : ''
      const title = typeof info.title === 'string' ? ` ${JSON.stringify(info.title)}` : ''
      return `create ${target.connection}/${target.stream}${from}${title}`
    }
    case 'delete':
      return `delete ${target.connection} ${info.targetKey ?? req.remoteId}`
    case 'attachment':
      return attachmentPlanLine(req)
    case 'comment':
      return `comment ${target.connection} ${info.targetKey ?? req.remoteId ?? '(being created)'}`
    case 'update': {
      const changes = Object.entries(req.values).map(([name, value]) => {
        const d = decisionOf(req, name, value, info.mapping)
        return `${name}: ${d ? show(d[req.target]) : '?'} → ${show(value)}`
      })
      return `update ${target.connection} ${info.targetKey ?? req.remoteId} ${changes.join(', ')}`
    }
    case 'relate':
    case 'unrelate':
      return `${req.op} ${target.connection} ${info.targetKey ?? req.remoteId} → ${show(req.values.related)}`
    case 'watch':
      return `watch ${target.connection} ${info.targetKey ?? req.remoteId} ${show(req.values.email)}`
  }
}
