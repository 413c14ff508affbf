import { SyncError } from './errors.js'
import type { OutboxRow } from './write.types.js'

export type PushImpossibleCode = 'write_unsupported' | 'delete_unsupported' | 'marker_missing' | 'marker_unsupported' | 'no_remote_id'

/** The row can never be performed as it stands (the target cannot do it, or the row lacks what it needs): parked as dead. */
export class PushImpossibleError extends SyncError {
  override readonly code: PushImpossibleCode
  constructor(code: PushImpossibleCode, message: string) {
    super(message)
    this.code = code
  }
}

/** How errors name an outbox row. */
export const where = (row: OutboxRow): string => `outbox row ${row.id} (${row.op} in ${row.stream.connection}/${row.stream.stream})`
