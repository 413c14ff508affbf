import { describe, expect, it } from 'vitest'
import { digest, eleanWriters, pattern, served } from '../support/writers.js'

// Elean's write ports against its simulator: tasks, comments, attachments and presigned URLs.

const signal = () => AbortSignal.timeout(30_000)
const MB = 1024 * 1024
const DETAILS = 'GET /v1/public/:project/tasks/:taskId/attachments/:attachmentId'
const FILES = 'GET /_files/:token'
const UPLOAD = 'POST /v1/public/:project/tasks/:taskId/attachments'

describe('Elean tasks', () => {
  it('creates a task and answers it as a GET reads it back', async () => {
    const { writers, sim } = await eleanWriters()
    const created = await writers.records.create('web', { title: '  Fix login  ', description: 'SSO on Safari', priority: 'high' }, signal())
    const read = await (await fetch(`${sim.baseUrl}/web/tasks/${created.remoteId}`, { headers: { authorization: `Bearer ${sim.credentials.apiKey}` } })).json()
    expect(created.document).toEqual(read)
    expect(created).toMatchObject({
      externalKey: 'WEB-1',
      title: 'Fix login',
      description: 'SSO on Safari',
      priority: 'high',
      status: 'To Do',
      statusCategory: 'todo',
    })
  })

  it('updates only the fields sent', async () => {
    const { writers } = await eleanWriters()
    const created = await writers.records.create('web', { title: 'A', description: 'd' }, signal())
    const updated = await writers.records.update('web', created.remoteId, { priority: 'urgent', description: null }, signal())
    expect(updated).toMatchObject({ remoteId: created.remoteId, title: 'A', description: null, priority: 'urgent' })
  })

  it('refuses a bad value as rejected naming the field, and a missing scope as forbidden naming the scope', async () => {
    const { writers } = await eleanWriters()
    await expect(writers.records.create('web', { title: 'ok', priority: 'critical' }, signal())).rejects.toMatchObject({ code: 'rejected', field: 'priority' })
    await expect(writers.records.update('web', 'WEB-404', { title: 'x' }, signal())).rejects.toMatchObject({ code: 'not_found' })
    const readOnly = await eleanWriters({ sim: { keys: [{ scopes: ['task:read'] }] } })
    const err = await readOnly.writers.records.create('web', { title: 'x' }, signal()).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'forbidden' })
    expect((err as Error).message).toMatch(/task:create/)
  })

  it('deletes a task; one already gone is not_found, and a key without task:update is forbidden naming the scope', async () => {
    const { writers, sim } = await eleanWriters()
    const created = await writers.records.create('web', { title: 'Short-lived' }, signal())
    await writers.records.delete!('web', created.remoteId, signal())
    expect(sim.store.findTask(sim.store.project('web')!, created.remoteId)).toBeUndefined()
    await expect(writers.records.delete!('web', created.remoteId, signal())).rejects.toMatchObject({ code: 'not_found' })
    const readOnly = await eleanWriters({ sim: { keys: [{ scopes: ['task:read'] }] } })
    await readOnly.control('POST', '/seed', { project: 'web', count: 1 })
    const err = await readOnly.writers.records.delete!('web', 'WEB-1', signal()).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'forbidden' })
    expect((err as Error).message).toMatch(/task:update/)
  })

  it('finds a task by the marker line of its description (search covers title and id only: the list is scanned)', async () => {
    const { writers, control } = await eleanWriters()
    await control('POST', '/seed', { project: 'web', count: 150 })
    await writers.records.create('web', { title: 'Near miss', description: 'elsync:it-requests:9 and more' }, signal())
    const mine = await writers.records.create('web', { title: 'Pushed', description: 'From Elementum\n\nelsync:it-requests:9' }, signal())
    expect((await writers.records.findByMarker('web', 'elsync:it-requests:9', signal()))?.remoteId).toBe(mine.remoteId)
    expect(await writers.records.findByMarker('web', 'elsync:it-requests:10', signal())).toBeNull()
  })
})

describe('Elean comments', () => {
  it('adds a comment and answers it as the list has it', async () => {
    const { writers, sim } = await eleanWriters()
    const task = await writers.records.create('web', { title: 'Commented' }, signal())
    const comment = await writers.comments.add('web', task.remoteId, 'Deployed to staging.', signal())
    const listed: any = await (
      await fetch(`${sim.baseUrl}/web/tasks/${task.remoteId}/comments`, { headers: { authorization: `Bearer ${sim.credentials.apiKey}` } })
    ).json()
    expect(listed).toHaveLength(1)
    expect(comment).toMatchObject({ parentRemoteId: task.remoteId, commentId: listed[0].id, body: 'Deployed to staging.', createdAt: listed[0].createdAt })
  })

  it('refuses a comment of more than 10 000 characters with too_large, without a request', async () => {
    const { writers, sim } = await eleanWriters()
    const task = await writers.records.create('web', { title: 'Long' }, signal())
    await served(sim.server.url)
    await expect(writers.comments.add('web', task.remoteId, 'x'.repeat(10_001), signal())).rejects.toMatchObject({ code: 'too_large', limit: 10_000 })
    expect(await served(sim.server.url)).toEqual({})
    expect((await writers.comments.add('web', task.remoteId, 'x'.repeat(10_000), signal())).body).toHaveLength(10_000)
  })
})

describe('Elean attachments', () => {
  it('uploads and downloads the same bytes without sending the API key to the presigned URL', async () => {
    const { writers } = await eleanWriters()
    const task = await writers.records.create('web', { title: 'Files' }, signal())
    const up = await writers.attachmentUploader.upload(
      'web',
      task.remoteId,
      { filename: 'log.bin', mediaType: 'application/octet-stream', size: MB, body: pattern(MB) },
      signal(),
    )
    expect(up).toMatchObject({ parentRemoteId: task.remoteId, filename: 'log.bin', size: MB })
    expect(JSON.stringify(up.document)).not.toContain('/_files/')
    const content = await writers.attachmentReader.open('web', task.remoteId, up.attachmentId, signal())
    expect(content).toMatchObject({ filename: 'log.bin', size: MB })
    expect(await digest(content.body)).toEqual(await digest(pattern(MB)))
  })

  it('fetches the details again when a kept presigned URL has expired, and downloads once more', async () => {
    const { writers, sim, control } = await eleanWriters()
    const task = await writers.records.create('web', { title: 'Expiry' }, signal())
    const up = await writers.attachmentUploader.upload(
      'web',
      task.remoteId,
      { filename: 'a.txt', mediaType: 'text/plain', size: 5000, body: pattern(5000) },
      signal(),
    )
    await served(sim.server.url)
    // the URL the upload answered is kept; an hour later on the server's clock it is refused
    await control('POST', '/clock', { advanceMs: 3_600_001 })
    const content = await writers.attachmentReader.open('web', task.remoteId, up.attachmentId, signal())
    expect(await digest(content.body)).toEqual(await digest(pattern(5000)))
    const requests = await served(sim.server.url)
    expect(requests[FILES]).toEqual({ 200: 1, 403: 1 })
    expect(requests[DETAILS]).toEqual({ 200: 1 })
  })

  it('refuses an 11 MB file with too_large: before sending when its size is known', async () => {
    const { writers, sim } = await eleanWriters()
    const task = await writers.records.create('web', { title: 'Too big' }, signal())
    await served(sim.server.url)
    const file = { filename: 'big.bin', mediaType: null, size: 11 * MB, body: pattern(11 * MB) }
    await expect(writers.attachmentUploader.upload('web', task.remoteId, file, signal())).rejects.toMatchObject({ code: 'too_large', limit: 10 * MB })
    expect(await served(sim.server.url)).toEqual({})
  })

  it('refuses an 11 MB file of unknown size with too_large once its bytes pass 10 MB', async () => {
    const { writers, sim } = await eleanWriters()
    const task = await writers.records.create('web', { title: 'Too big' }, signal())
    await served(sim.server.url)
    const file = { filename: 'big.bin', mediaType: null, size: null, body: pattern(11 * MB) }
    await expect(writers.attachmentUploader.upload('web', task.remoteId, file, signal())).rejects.toMatchObject({ code: 'too_large', limit: 10 * MB })
    expect(sim.store.project('web')?.tasks.get(task.remoteId)?.attachments).toEqual([])
    // cut short by the client: the server never got to answer the upload
    expect((await served(sim.server.url))[UPLOAD]).toBeUndefined()
  })

  it('reads an upload whose answer was cut short back from the task, without uploading again', async () => {
    const { writers, sim, control } = await eleanWriters()
    const task = await writers.records.create('web', { title: 'Cut' }, signal())
    await control('POST', '/faults', { kind: 'truncate', route: `/v1/public/web/tasks/${task.remoteId}/attachments`, count: 1 })
    await served(sim.server.url)
    const up = await writers.attachmentUploader.upload(
      'web',
      task.remoteId,
      { filename: 'cut.txt', mediaType: 'text/plain', size: 2000, body: pattern(2000) },
      signal(),
    )
    const stored = sim.store.project('web')?.tasks.get(task.remoteId)?.attachments ?? []
    expect(stored.map((a) => a.id)).toEqual([up.attachmentId])
    expect(up).toMatchObject({ filename: 'cut.txt', size: 2000 })
    expect((await served(sim.server.url))[UPLOAD]).toEqual({ 201: 1 })
  })

  it("maps the server's 413 to too_large", async () => {
    const { writers, sim } = await eleanWriters({ sim: { maxAttachmentBytes: 100_000 }, attachments: { maxBytes: 10 * MB } })
    const task = await writers.records.create('web', { title: 'Server limit' }, signal())
    await served(sim.server.url)
    const file = { filename: 'big.bin', mediaType: null, size: 200_000, body: pattern(200_000) }
    await expect(writers.attachmentUploader.upload('web', task.remoteId, file, signal())).rejects.toMatchObject({ code: 'too_large' })
    expect((await served(sim.server.url))[UPLOAD]).toEqual({ 413: 1 })
  })
})
