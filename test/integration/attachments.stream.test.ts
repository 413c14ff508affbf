import { describe, expect, it } from 'vitest'
import { digest, eleanWriters, elementumWriters, pattern, served } from '../support/writers.js'

// Attachments piped from one vendor to the other: the download is the upload's body.

const signal = () => AbortSignal.timeout(60_000)
const MB = 1024 * 1024

describe('attachments streamed between vendors', () => {
  it('copies a 3 MB file from Elementum to Elean intact', async () => {
    const elementum = await elementumWriters({ sim: { processingMs: 0 } })
    const elean = await eleanWriters()
    const source = await elementum.writers.records.create('ops', { Title: 'Source' }, signal())
    const target = await elean.writers.records.create('web', { title: 'Target' }, signal())
    const original = await elementum.writers.attachmentUploader.upload(
      'ops',
      source.remoteId,
      { filename: 'scan.pdf', mediaType: 'application/pdf', size: 3 * MB, body: pattern(3 * MB) },
      signal(),
    )

    const download = await elementum.writers.attachmentReader.open('ops', source.remoteId, original.attachmentId, signal())
    expect(download.size).toBe(3 * MB)
    const copy = await elean.writers.attachmentUploader.upload('web', target.remoteId, download, signal())
    expect(copy).toMatchObject({ filename: 'scan.pdf', mediaType: 'application/pdf', size: 3 * MB })

    const stored = elean.sim.store.project('web')?.tasks.get(target.remoteId)?.attachments[0]
    expect(stored?.data.length).toBe(3 * MB)
    expect(await digest([stored?.data ?? new Uint8Array()])).toEqual(await digest(pattern(3 * MB)))
  })

  it('copies a 3 MB file from Elean to Elementum intact, waiting for it to be processed', async () => {
    const elean = await eleanWriters()
    const elementum = await elementumWriters({ sim: { processingMs: 300 }, attachments: { pollDelayMs: 50, maxPollDelayMs: 100 } })
    const source = await elean.writers.records.create('web', { title: 'Source' }, signal())
    const target = await elementum.writers.records.create('ops', { Title: 'Target' }, signal())
    const original = await elean.writers.attachmentUploader.upload(
      'web',
      source.remoteId,
      { filename: 'photo.jpg', mediaType: 'image/jpeg', size: 3 * MB, body: pattern(3 * MB, 50_000, 11) },
      signal(),
    )

    const download = await elean.writers.attachmentReader.open('web', source.remoteId, original.attachmentId, signal())
    const copy = await elementum.writers.attachmentUploader.upload('ops', target.remoteId, download, signal())
    expect(copy).toMatchObject({ filename: 'photo.jpg', mediaType: 'image/jpeg', size: 3 * MB })
    expect((copy.document as { state: string }).state).toBe('VALID')

    const back = await elementum.writers.attachmentReader.open('ops', target.remoteId, copy.attachmentId, signal())
    expect(await digest(back.body)).toEqual(await digest(pattern(3 * MB, 50_000, 11)))
  })

  it('refuses an 11 MB Elementum file for Elean with too_large before uploading, and closes the download', async () => {
    const elementum = await elementumWriters({ sim: { processingMs: 0 } })
    const elean = await eleanWriters()
    const source = await elementum.writers.records.create('ops', { Title: 'Big' }, signal())
    const target = await elean.writers.records.create('web', { title: 'Target' }, signal())
    const original = await elementum.writers.attachmentUploader.upload(
      'ops',
      source.remoteId,
      { filename: 'big.iso', mediaType: null, size: 11 * MB, body: pattern(11 * MB) },
      signal(),
    )
    const download = await elementum.writers.attachmentReader.open('ops', source.remoteId, original.attachmentId, signal())
    await served(elean.sim.server.url)
    await expect(elean.writers.attachmentUploader.upload('web', target.remoteId, download, signal())).rejects.toMatchObject({
      code: 'too_large',
      limit: 10 * MB,
    })
    expect(await served(elean.sim.server.url)).toEqual({})
    // the download was closed: reading it now ends at once
    expect(await download.body[Symbol.asyncIterator]().next()).toEqual({ done: true, value: undefined })
  })
})
