import type { StreamRef } from './types.js'

/**
 * Typed errors with a stable snake_case `code` and a `retryable` flag. Catch
 * `unknown`, normalise once with `toSyncError`, wrap with `cause`.
 */
export class SyncError extends Error {
  readonly code: string = 'sync_error'
  readonly retryable: boolean = false
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}

export class MassDeleteRefusedError extends SyncError {
  override readonly code = 'mass_delete_refused'
  constructor(
    readonly stream: StreamRef,
    readonly wouldDelete: number,
    readonly live: number,
    readonly maxFraction: number,
  ) {
    const name = `${stream.connection}/${stream.stream}`
    super(
      `refusing to delete ${wouldDelete} of ${live} records (${((wouldDelete / Math.max(live, 1)) * 100).toFixed(1)}%) in stream ${name}: ` +
        `more than massDeleteFraction ${(maxFraction * 100).toFixed(1)}% allows. Nothing was deleted. If the records really are gone, ` +
        `confirm with: elsync sync --connection ${stream.connection} --stream ${stream.stream} --full --confirm-deletes`,
    )
  }
}

export class InvalidRecordError extends SyncError {
  override readonly code = 'invalid_record'
}

/** A filter that is not valid RSQL in Elementum's dialect; `position` is a 0-based character offset. */
export class RsqlSyntaxError extends SyncError {
  override readonly code = 'rsql_syntax'
  constructor(
    readonly position: number,
    readonly reason: string,
  ) {
    super(`Invalid filter at position ${position}: ${reason}`)
  }
}

/** A stream (or its connection) that the config does not declare. */
export class UnknownStreamError extends SyncError {
  override readonly code = 'unknown_stream'
  constructor(readonly stream: StreamRef) {
    super(`connection ${stream.connection} has no stream "${stream.stream}"`)
  }
}

/**
 * The reason a command gives its abort signal when it stops on purpose (SIGINT, SIGTERM,
 * daemon shutdown): a run it cuts short is recorded as `interrupted`, not `failed`.
 */
export class InterruptedError extends SyncError {
  override readonly code = 'interrupted'
}

export function toSyncError(err: unknown): SyncError {
  if (err instanceof SyncError) return err
  if (err instanceof Error) return new SyncError(err.message, { cause: err })
  return new SyncError(String(err))
}
