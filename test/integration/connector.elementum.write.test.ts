import { describe, expect, it } from 'vitest'
import { digest, elementumWriters, pattern, served } from '../support/writers.js'

// Elementum's write ports against its simulator: records, comments, related items, uploads.

const signal = () => AbortSignal.timeout(30_000)
const SEARCH = 'GET /v1/:recordType/:alias'
const UPLOAD = 'POST /v1/:recordType/:alias/:id/attachments'
const ATTACHMENT = 'GET /v1/:recordType/:alias/:id/attachments/:attachmentId'

describe('Elementum records', () => {
  it('creates a record and answers it as a GET reads it back', async () => {
    const { writers, control } = await elementumWriters()
    const created = await writers.records.create('ops', { Title: 'Replace badge reader', Description: 'Lobby door', Priority: 'P2' }, signal())
    expect(created).toMatchObject({ remoteId: 'TSK-1', title: 'Replace badge reader', description: 'Lobby door', priority: 'P2', status: 'Open' })
    const dump = await control('GET', '/records/tasks/ops')
    expect(dump.items[0].data).toEqual(created.document)
    expect(created.remoteUpdatedAt).toBe(dump.items[0].data['Updated on'])
  })

  it('updates a record and answers the stored values', async () => {
    const { writers, control } = await elementumWriters()
    const created = await writers.records.create('ops', { Title: 'Renew contract' }, signal())
    const updated = await writers.records.update('ops', created.remoteId, { Status: 'In Progress', Title: 'Renew supplier contract' }, signal())
    expect(updated).toMatchObject({ remoteId: created.remoteId, status: 'In Progress', statusCategory: 'in_progress', title: 'Renew supplier contract' })
    expect((await control('GET', '/records/tasks/ops')).items[0].data.Status).toBe('In Progress')
  })

  it('refuses a field the record type does not define as rejected, naming the field, and a missing record as not_found', async () => {
    const { writers } = await elementumWriters()
    await expect(writers.records.create('ops', { Title: 'x', Colour: 'red' }, signal())).rejects.toMatchObject({ code: 'rejected', field: 'Colour' })
    await expect(writers.records.create('ops', { Title: 'x', Status: 'Done' }, signal())).rejects.toMatchObject({ code: 'rejected', field: 'Status' })
    await expect(writers.records.update('ops', 'TSK-404', { Title: 'x' }, signal())).rejects.toMatchObject({ code: 'not_found' })
  })

  it('finds a record by the marker line of its description, and nothing for a marker only contained in a longer line', async () => {
    const { writers, control } = await elementumWriters()
    await control('POST', '/seed', { alias: 'ops', count: 30 })
    await writers.records.create('ops', { Title: 'Near miss', Description: 'see elsync:it-requests:42x' }, signal())
    const mine = await writers.records.create('ops', { Title: 'Pushed', Description: 'Copied from Elean\n\nelsync:it-requests:42' }, signal())
    const found = await writers.records.findByMarker('ops', 'elsync:it-requests:42', signal())
    expect(found?.remoteId).toBe(mine.remoteId)
    expect(await writers.records.findByMarker('ops', 'elsync:it-requests:43', signal())).toBeNull()
  })

  it('reports a create whose answer was lost as unconfirmed (not retried), and its marker finds it', async () => {
    const { writers, control } = await elementumWriters()
    await control('POST', '/faults', { kind: 'truncate', route: '/v1/tasks/ops', count: 1 })
    const err = await writers.records.create('ops', { Title: 'Lost answer', Description: 'x\nelsync:m:1' }, signal()).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'unconfirmed', retryable: false })
    expect((await control('GET', '/records/tasks/ops')).items).toHaveLength(1)
    expect((await writers.records.findByMarker('ops', 'elsync:m:1', signal()))?.title).toBe('Lost answer')
  })

  it('finds a marker by one filtered search, not by reading the namespace', async () => {
    const { writers, control, sim } = await elementumWriters()
    await control('POST', '/seed', { alias: 'ops', count: 250 })
    await writers.records.create('ops', { Title: 'Pushed', Description: 'text\nelsync:m:7' }, signal())
    await served(sim.server.url)
    expect((await writers.records.findByMarker('ops', 'elsync:m:7', signal()))?.title).toBe('Pushed')
    expect((await served(sim.server.url))[SEARCH]).toEqual({ 200: 1 })
  })
})

describe('Elementum comments', () => {
  it('adds a text/plain comment and answers it as the comment list has it', async () => {
    const { writers, control } = await elementumWriters()
    const task = await writers.records.create('ops', { Title: 'Commented' }, signal())
    await control('POST', `/records/tasks/ops/${task.remoteId}/comments`, { contents: 'an earlier one' })
    const comment = await writers.comments.add('ops', task.remoteId, 'Parts ordered\n\n— Jane Smith via Elean', signal())
    const listed = (await control('GET', '/records/tasks/ops')).items[0].comments
    expect(listed).toHaveLength(2)
    expect(comment).toMatchObject({ parentRemoteId: task.remoteId, commentId: listed[1].id, body: 'Parts ordered\n\n— Jane Smith via Elean', origin: 'synced' })
    expect(comment.createdAt).toBe(listed[1].createdAt)
    expect(comment.author).not.toBeNull()
  })

  it('refuses an empty comment without a request', async () => {
    const { writers, sim } = await elementumWriters()
    const task = await writers.records.create('ops', { Title: 'x' }, signal())
    await served(sim.server.url)
    await expect(writers.comments.add('ops', task.remoteId, '  ', signal())).rejects.toMatchObject({ code: 'rejected' })
    expect(await served(sim.server.url)).toEqual({})
  })
})

describe('Elementum related items', () => {
  it('relates a record of another stream and removes the relation by its id', async () => {
    const { writers, control } = await elementumWriters()
    const parent = await writers.records.create('ops', { Title: 'Parent' }, signal())
    const other = await writers.records.create('infra', { Title: 'Server' }, signal())
    const relation = await writers.relations.add('ops', parent.remoteId, { remoteId: other.remoteId, stream: 'infra' }, signal())
    const stored = (await control('GET', '/records/tasks/ops')).items[0].related
    expect(stored).toEqual([expect.objectContaining({ id: other.remoteId, alias: 'infra', relationId: relation.relationId })])
    expect(relation).toEqual({ parentRemoteId: parent.remoteId, relatedRemoteId: other.remoteId, relatedStream: 'infra', relationId: stored[0].relationId })
    await writers.relations.remove('ops', parent.remoteId, relation.relationId as string, signal())
    expect((await control('GET', '/records/tasks/ops')).items[0].related).toEqual([])
    // removing it again is what was wanted already
    await writers.relations.remove('ops', parent.remoteId, relation.relationId as string, signal())
  })
})

describe('Elementum attachments', () => {
  it('waits for an upload answered 202 until the attachment is VALID', async () => {
    const { writers, sim } = await elementumWriters({ sim: { processingMs: 600 }, attachments: { pollDelayMs: 50, maxPollDelayMs: 100 } })
    const task = await writers.records.create('ops', { Title: 'With file' }, signal())
    await served(sim.server.url)
    const file = { filename: 'report.bin', mediaType: 'application/octet-stream', size: 200_000, body: pattern(200_000) }
    const uploaded = await writers.attachmentUploader.upload('ops', task.remoteId, file, signal())
    expect(uploaded).toMatchObject({ parentRemoteId: task.remoteId, filename: 'report.bin', size: 200_000 })
    expect((uploaded.document as { state: string }).state).toBe('VALID')
    const requests = await served(sim.server.url)
    expect(requests[UPLOAD]).toEqual({ 202: 1 })
    // the 202 said PROCESSING: at least one GET of the attachment saw it VALID
    expect(requests[ATTACHMENT]?.[200]).toBeGreaterThanOrEqual(1)
  })

  it('gives up waiting with processing_timeout, naming the attachment', async () => {
    const { writers } = await elementumWriters({
      sim: { processingMs: 3_600_000 },
      attachments: { pollDelayMs: 20, maxPollDelayMs: 40, processingTimeoutMs: 200 },
    })
    const task = await writers.records.create('ops', { Title: 'Slow' }, signal())
    const file = { filename: 'a.txt', mediaType: 'text/plain', size: 5, body: pattern(5) }
    const err = await writers.attachmentUploader.upload('ops', task.remoteId, file, signal()).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'processing_timeout', attachmentId: expect.any(String) })
  })

  it('refuses a file above the limit with too_large: before sending when its size is known, when its bytes pass the limit otherwise', async () => {
    const { writers, sim } = await elementumWriters({ attachments: { maxBytes: 100_000 } })
    const task = await writers.records.create('ops', { Title: 'Limits' }, signal())
    await served(sim.server.url)
    const known = { filename: 'big.bin', mediaType: null, size: 100_001, body: pattern(100_001) }
    await expect(writers.attachmentUploader.upload('ops', task.remoteId, known, signal())).rejects.toMatchObject({ code: 'too_large', limit: 100_000 })
    expect(await served(sim.server.url)).toEqual({})
    const unknown = { filename: 'big.bin', mediaType: null, size: null, body: pattern(300_000) }
    await expect(writers.attachmentUploader.upload('ops', task.remoteId, unknown, signal())).rejects.toMatchObject({ code: 'too_large', limit: 100_000 })
    const dump: any = await (await fetch(`${sim.server.url}/_sim/records/tasks/ops`)).json()
    expect(dump.items[0].attachments).toEqual([])
  })

  it("maps the server's 413 to too_large", async () => {
    const { writers } = await elementumWriters({ sim: { maxAttachmentBytes: 50_000 }, attachments: { maxBytes: 1_000_000 } })
    const task = await writers.records.create('ops', { Title: 'Server limit' }, signal())
    const file = { filename: 'big.bin', mediaType: null, size: 60_000, body: pattern(60_000) }
    await expect(writers.attachmentUploader.upload('ops', task.remoteId, file, signal())).rejects.toMatchObject({ code: 'too_large' })
  })

  it('reads an attachment back as the bytes uploaded, with its name and type', async () => {
    const { writers } = await elementumWriters({ sim: { processingMs: 0 } })
    const task = await writers.records.create('ops', { Title: 'Round trip' }, signal())
    const up = await writers.attachmentUploader.upload(
      'ops',
      task.remoteId,
      { filename: 'ü n.txt', mediaType: 'text/plain', size: 70_000, body: pattern(70_000) },
      signal(),
    )
    const content = await writers.attachmentReader.open('ops', task.remoteId, up.attachmentId, signal())
    expect(content).toMatchObject({ filename: 'ü n.txt', mediaType: 'text/plain', size: 70_000 })
    expect(await digest(content.body)).toEqual(await digest(pattern(70_000)))
  })

  it('adds a url link in place of a file', async () => {
    const { writers } = await elementumWriters()
    const task = await writers.records.create('ops', { Title: 'Linked' }, signal())
    const link = await writers.attachmentUploader.addLink?.(
      'ops',
      task.remoteId,
      { url: 'https://files.example.com/big.iso', description: 'too large to copy' },
      signal(),
    )
    expect(link).toMatchObject({ parentRemoteId: task.remoteId, mediaType: 'text/uri-list' })
  })

  it('streams through the connection: requests are counted in its stats', async () => {
    const { writers, http } = await elementumWriters({ sim: { processingMs: 0 } })
    const task = await writers.records.create('ops', { Title: 'Counted' }, signal())
    const before = http.stats().requests
    await writers.attachmentUploader.upload('ops', task.remoteId, { filename: 'c.txt', mediaType: 'text/plain', size: 3, body: pattern(3) }, signal())
    // processed at once: the 202 already says VALID, so the streamed upload is the one request
    expect(http.stats().requests - before).toBe(1)
  })
})
