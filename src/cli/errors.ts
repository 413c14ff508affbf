import { SyncError } from '../engine/errors.js'

/** Ends a command with this exit status after printing the message (2: invalid config or usage). */
export class ExitError extends SyncError {
  override readonly code = 'command_exit'
  constructor(
    readonly exitCode: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}
