import { randomBytes } from 'node:crypto'
import { SyncError } from '../engine/errors.js'

/**
 * A multipart/form-data body around a file read from an async iterable: the envelope is
 * built part by part (boundary, part headers, the file's chunks, closing boundary), never
 * held whole, with its exact length when the file's size is known.
 */

/** A file whose body did not have the size it declared (the request is abandoned: its Content-Length would lie). */
export class SizeMismatchError extends SyncError {
  override readonly code = 'size_mismatch'
}

export interface MultipartFile {
  filename: string
  mediaType: string | null
  /** Bytes the body will yield, when known: the request then carries a Content-Length. */
  size: number | null
  body: AsyncIterable<Uint8Array>
}

/** WHATWG form-data escaping of a name or filename inside its quotes. */
const quoteParam = (s: string): string => s.replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22')

/** A multipart/form-data envelope around a streamed file, built part by part, never buffered whole. */
export function multipartBody(
  fields: Readonly<Record<string, string>>,
  fileField: string,
  file: MultipartFile,
  source: AsyncIterator<Uint8Array>,
): { contentType: string; length: number | null; body: AsyncGenerator<Uint8Array> } {
  const boundary = `----elsync${randomBytes(16).toString('hex')}`
  let head = ''
  for (const [name, value] of Object.entries(fields)) head += `--${boundary}\r\nContent-Disposition: form-data; name="${quoteParam(name)}"\r\n\r\n${value}\r\n`
  head +=
    `--${boundary}\r\nContent-Disposition: form-data; name="${quoteParam(fileField)}"; filename="${quoteParam(file.filename)}"\r\n` +
    `Content-Type: ${file.mediaType ?? 'application/octet-stream'}\r\n\r\n`
  const prefix = Buffer.from(head)
  const suffix = Buffer.from(`\r\n--${boundary}--\r\n`)
  const declared = file.size
  async function* body(): AsyncGenerator<Uint8Array> {
    yield prefix
    let sent = 0
    for (;;) {
      const r = await source.next()
      if (r.done) break
      sent += r.value.length
      // a Content-Length was promised: a body of another size would corrupt the request
      if (declared !== null && sent > declared) throw new SizeMismatchError(`${file.filename}: the file is longer than its declared ${declared} bytes`)
      yield r.value
    }
    if (declared !== null && sent !== declared) throw new SizeMismatchError(`${file.filename}: the file ended after ${sent} of its declared ${declared} bytes`)
    yield suffix
  }
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length: declared === null ? null : prefix.length + declared + suffix.length,
    body: body(),
  }
}
