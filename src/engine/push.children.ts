import { PushImpossibleError, where } from './push.errors.js'
import type { Connector } from './ports.js'
import type { ChildOp, OutboxRow, PushResult } from './write.types.js'

/**
 * Child writes of a linked record (related items, watchers), with the guarantees of record
 * writes: the executor claims, retries and parks them alike. None of these APIs takes an
 * idempotency key, so a row that may have reached the vendor before (its attempts count one
 * cut short by a crash) first looks: a relation or a watcher already there is not added again.
 */

function text(row: OutboxRow, key: string): string {
  const v = row.values[key]
  if (typeof v !== 'string' || v === '') throw new PushImpossibleError('no_remote_id', `${where(row)}: the write names no ${key}`)
  return v
}

function parentOf(row: OutboxRow): string {
  if (row.remoteId === null) throw new PushImpossibleError('no_remote_id', `${where(row)}: the target record is not known`)
  return row.remoteId
}

function unsupported(row: OutboxRow, connector: Connector, what: string): never {
  throw new PushImpossibleError('write_unsupported', `${where(row)}: connection ${row.stream.connection} (kind ${connector.kind}) cannot write ${what}`)
}

export async function performChildPush(row: OutboxRow & { op: ChildOp }, connector: Connector, signal: AbortSignal): Promise<PushResult> {
  const stream = row.stream.stream
  const parent = parentOf(row)
  const done: PushResult = { remoteId: parent, record: null }
  switch (row.op) {
    case 'relate': {
      const relations = connector.relations ?? unsupported(row, connector, 'related items')
      const related = text(row, 'related')
      if (row.attempts > 1) {
        const listed = await relations.list(stream, parent, signal)
        if (listed?.some((r) => r.relatedRemoteId === related)) return done
      }
      const relatedStream = typeof row.values.relatedStream === 'string' ? row.values.relatedStream : stream
      await relations.add(stream, parent, { remoteId: related, stream: relatedStream }, signal)
      return done
    }
    case 'unrelate': {
      const relations = connector.relations ?? unsupported(row, connector, 'related items')
      const related = text(row, 'related')
      // the relation's id on the vendor: the list has it (DELETE takes it, or the related item's id)
      const listed = await relations.list(stream, parent, signal)
      const found = listed?.find((r) => r.relatedRemoteId === related)
      if (!found) return done
      await relations.remove(stream, parent, found.relationId ?? related, signal)
      return done
    }
    case 'watch': {
      const watchers = connector.watchers ?? unsupported(row, connector, 'watchers')
      const email = text(row, 'email').toLowerCase()
      if (row.attempts > 1) {
        const listed = await watchers.list(stream, parent, signal)
        if (listed?.some((w) => w.email === email)) return done
      }
      const added = await watchers.add(stream, parent, email, signal)
      if (added === 'unknown_user')
        return { ...done, skipped: { code: 'user_unknown', message: `${row.stream.connection} has no user ${email}: watcher not copied` } }
      return done
    }
  }
}
