import { SyncError } from '../../engine/errors.js'
import { HttpStatusError, NetworkError } from '../../http/errors.js'

/**
 * What the write side of every vendor shares: typed errors the engine acts on by `code`
 * (`too_large` → a link instead of the file, `rejected` → park the row naming the field,
 * `not_found` → the target is gone, `unconfirmed` → look before writing again), the byte
 * limit of a streamed upload, and the create marker's check.
 */

/** A file or text larger than the target accepts; nothing (or only a refused request) was sent. */
export class TooLargeError extends SyncError {
  override readonly code = 'too_large'
  constructor(
    message: string,
    /** The target's limit (bytes for files, characters for text). */
    readonly limit: number,
    /** The size offered, when known. */
    readonly size: number | null,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** The vendor refused the payload (400); `field` names the offending field when the answer does. */
export class RejectedError extends SyncError {
  override readonly code = 'rejected'
  constructor(
    message: string,
    readonly field: string | null,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** The record (or its child) the write addresses does not exist (any more). */
export class NotFoundError extends SyncError {
  override readonly code = 'not_found'
}

/**
 * The write may have been applied but its result could not be read back. Repeating it
 * blindly could duplicate it: look the target up first.
 */
export class UnconfirmedWriteError extends SyncError {
  override readonly code = 'unconfirmed'
}

/** An uploaded file that the vendor failed to process, or did not finish processing in time. */
export class AttachmentProcessingError extends SyncError {
  override readonly code: 'attachment_failed' | 'processing_timeout'
  /** A timeout is worth another attempt: it finds the upload by its marker and waits again. */
  override readonly retryable: boolean
  constructor(
    message: string,
    code: 'attachment_failed' | 'processing_timeout',
    readonly attachmentId: string,
  ) {
    super(message)
    this.code = code
    this.retryable = code === 'processing_timeout'
  }
}

const LOST_ANSWER = new Set(['network_error', 'timeout', 'bad_response'])

/** The vendor's own message of an HttpStatusError (what follows `answered <status>...: `). */
function detailOf(err: HttpStatusError): string {
  return /answered \d{3}(?: \(request-id [^)]*\))?: ([\s\S]*)$/.exec(err.message)?.[1] ?? err.message
}

/** The field a 400 names: `field "X"` (Elementum), or a leading known field name (`title must be…`, Elean). */
export function fieldNamed(detail: string, candidates: readonly string[]): string | null {
  const quoted = /field\s+"([^"]+)"/i.exec(detail)?.[1]
  if (quoted) return quoted
  const first = /^\s*([A-Za-z_][\w ]*?)\s+(?:is|must|has|does|exceeds|cannot|should|not)\b/.exec(detail)?.[1]
  return first && candidates.includes(first) ? first : null
}

/**
 * Rethrows a write's error in the engine's terms: 400 → RejectedError naming the field,
 * 404 → NotFoundError, 413 → TooLargeError, and for a POST (`post`) an answer lost after
 * the request may have reached the server → UnconfirmedWriteError. Other errors pass unchanged.
 */
export function translateWriteError(
  err: unknown,
  what: string,
  o: { fields?: readonly string[]; limit?: number; size?: number | null; post?: boolean } = {},
): never {
  // a POST whose answer was lost may have been applied: repeating it blindly could duplicate it
  if (
    o.post &&
    err instanceof SyncError &&
    !(err instanceof HttpStatusError) &&
    LOST_ANSWER.has(err.code) &&
    !(err instanceof NetworkError && err.phase === 'connect')
  )
    throw new UnconfirmedWriteError(`${what}: may have been applied, but its answer was lost (${err.message})`, { cause: err })
  if (!(err instanceof HttpStatusError)) throw err
  const detail = detailOf(err)
  if (err.status === 413)
    throw new TooLargeError(`${what}: too large for the target (limit ${o.limit ?? 'unknown'}): ${detail}`, o.limit ?? 0, o.size ?? null, { cause: err })
  if (err.status === 404) throw new NotFoundError(`${what}: not found: ${detail}`, { cause: err })
  if (err.status === 400 || err.status === 422) {
    const field = fieldNamed(detail, o.fields ?? [])
    throw new RejectedError(`${what}: refused${field ? ` (field ${field})` : ''}: ${detail}`, field, { cause: err })
  }
  throw err
}

/** The file's bytes, refused with TooLargeError as soon as they pass `limit`, before the vendor has to. */
export async function* limitBytes(body: AsyncIterable<Uint8Array>, limit: number, what: string): AsyncGenerator<Uint8Array> {
  let seen = 0
  for await (const chunk of body) {
    seen += chunk.length
    if (seen > limit) throw new TooLargeError(`${what}: the file passes the target's limit of ${limit} bytes`, limit, null)
    yield chunk
  }
}

/** Closes a file's body that will not be read (a refused upload), so the download behind it ends. */
export function discard(body: AsyncIterable<Uint8Array>): void {
  body[Symbol.asyncIterator]()
    .return?.()
    ?.catch(() => {})
}

/** True when one line of the description is exactly the create marker (it is written as a line of its own). */
export function hasMarkerLine(description: string | null | undefined, marker: string): boolean {
  if (!description) return false
  return description.split(/\r?\n/).some((line) => line.trim() === marker.trim())
}
