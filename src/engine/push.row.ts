import type { FieldCatalog } from './catalog.js'
import { SyncError } from './errors.js'
import { performChildPush } from './push.children.js'
import { PushImpossibleError, where } from './push.errors.js'
import type { Connector, RecordWriter, WritePayload } from './ports.js'
import { pushAttachment } from './push.attachment.js'
import { isChildOp, type ChildOp, type OutboxRow, type PushResult } from './write.types.js'
import { pushComment } from './children.comments.js'

/**
 * One outbox row performed through its target connector: a create (looked up by its marker
 * first when an earlier attempt may have reached the vendor), an update, a delete, or an
 * attachment copy (push.attachment.ts).
 * Throws what the connector threw; the executor decides what a failure means.
 */

export { PushImpossibleError, type PushImpossibleCode } from './push.errors.js'

export async function performPush(
  row: OutboxRow,
  connector: Connector,
  signal: AbortSignal,
  connectorOf?: (connection: string) => Connector,
): Promise<PushResult> {
  // a copy reads its file through the source's connector
  if (row.op === 'attachment') return pushAttachment(row, connector, connectorOf ?? (() => connector), signal)
  // related items and watchers of a linked record (push.children.ts)
  if (isChildOp(row.op)) return performChildPush(row as OutboxRow & { op: ChildOp }, connector, signal)
  if (row.op === 'comment') return pushComment(row, connector, signal)
  const { records, fields } = connector
  if (!records || !fields)
    throw new PushImpossibleError('write_unsupported', `${where(row)}: connection ${row.stream.connection} (kind ${connector.kind}) cannot write records`)
  const stream = row.stream.stream
  switch (row.op) {
    case 'create':
      return create(row, records, fields, signal)
    case 'update': {
      const remoteId = targetOf(row)
      const payload = await fields.toPayload(stream, row.values, signal)
      const record = await records.update(stream, remoteId, payload, signal)
      return { remoteId: record.remoteId, record }
    }
    case 'delete': {
      if (!records.delete)
        throw new PushImpossibleError('delete_unsupported', `${where(row)}: connection ${row.stream.connection} (kind ${connector.kind}) cannot delete records`)
      const remoteId = targetOf(row)
      try {
        await records.delete(stream, remoteId, signal)
      } catch (err) {
        // already gone is what the delete wanted
        if (!(err instanceof SyncError && err.code === 'not_found')) throw err
      }
      return { remoteId, record: null }
    }
  }
}

function targetOf(row: OutboxRow): string {
  if (row.remoteId === null) throw new PushImpossibleError('no_remote_id', `${where(row)}: the target record is not known (its create was not sent)`)
  return row.remoteId
}

async function create(row: OutboxRow, records: RecordWriter, fields: FieldCatalog, signal: AbortSignal): Promise<PushResult> {
  const marker = row.marker?.trim()
  // without a marker a create cut short by a crash could not be found again, and would be repeated
  if (!marker) throw new PushImpossibleError('marker_missing', `${where(row)}: a create needs its marker`)
  const stream = row.stream.stream
  // attempts counts this one: an earlier attempt may have created the record before its answer or its bookkeeping was lost
  if (row.attempts > 1) {
    const found = await records.findByMarker(stream, marker, signal)
    if (found) return { remoteId: found.remoteId, record: found }
  }
  const payload: WritePayload = await fields.toPayload(stream, withMarker(row, fields, marker), signal)
  const record = await records.create(stream, payload, signal)
  return { remoteId: record.remoteId, record }
}

/**
 * The target's description field (every writer's vendor has one; the name's case is the vendor's).
 * It must be known as long text: a catalog may take any unknown name for a writable text field.
 */
function descriptionField(fields: FieldCatalog, stream: string, values: Readonly<Record<string, unknown>>): string | null {
  for (const name of [...Object.keys(values), 'description', 'Description']) {
    if (name.toLowerCase() !== 'description') continue
    const info = fields.field(stream, name)
    if (info?.writable && info.kind === 'longtext') return info.name
  }
  return null
}

/** The values with the marker as the description's last line, after a blank line (the form of MarkerFormat.append). */
function withMarker(row: OutboxRow, fields: FieldCatalog, marker: string): Readonly<Record<string, unknown>> {
  const name = descriptionField(fields, row.stream.stream, row.values)
  if (name === null) throw new PushImpossibleError('marker_unsupported', `${where(row)}: the target has no writable description to carry the create marker`)
  const current = row.values[name]
  const text = typeof current === 'string' ? current : ''
  if (text.split(/\r?\n/).some((line) => line.trim() === marker)) return row.values
  return { ...row.values, [name]: text === '' ? marker : `${text}\n\n${marker}` }
}
