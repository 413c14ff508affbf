import { describe, expect, it } from 'vitest'
import { createEleanWriters } from '../../src/connectors/elean/elean.write.js'
import { likeFilter } from '../../src/connectors/elementum/elementum.write.js'
import { fieldNamed, hasMarkerLine, translateWriteError } from '../../src/connectors/shared/write.js'
import { compileRsql } from '../../src/engine/rsql.js'
import type { HttpClient, HttpRequest } from '../../src/http/client.js'
import { HttpStatusError } from '../../src/http/errors.js'
import { multipartBody } from '../../src/http/multipart.js'

describe('the create marker', () => {
  it('counts only a line that is exactly the marker', () => {
    expect(hasMarkerLine('Some text\n\nelsync:m:1', 'elsync:m:1')).toBe(true)
    expect(hasMarkerLine('Some text\r\n  elsync:m:1  \r\n', 'elsync:m:1')).toBe(true)
    expect(hasMarkerLine('see elsync:m:1', 'elsync:m:1')).toBe(false)
    expect(hasMarkerLine('elsync:m:10', 'elsync:m:1')).toBe(false)
    expect(hasMarkerLine(null, 'elsync:m:1')).toBe(false)
  })

  it('is searched with an =lk= filter that RSQL parses, quoted when the marker needs it', () => {
    expect(likeFilter('Description', 'elsync:it-requests:42')).toBe('Description=lk=*elsync:it-requests:42*')
    for (const marker of ['elsync:it-requests:42', 'elsync:my map;x:7', 'elsync:"q"\\:1']) {
      const matches = compileRsql(likeFilter('Description', marker))
      expect(matches({ Description: `body\n\n${marker}` }), marker).toBe(true)
      expect(matches({ Description: 'body' }), marker).toBe(false)
    }
  })
})

describe('write errors', () => {
  it('names the field a 400 is about', () => {
    expect(fieldNamed('Invalid value "Done" for field "Status"; allowed: Open', [])).toBe('Status')
    expect(fieldNamed('Field "Title" is required', [])).toBe('Title')
    expect(fieldNamed('priority must be one of none, low', ['title', 'priority'])).toBe('priority')
    expect(fieldNamed('Something went wrong', ['title'])).toBeNull()
  })

  it('translates 400, 404 and 413 and passes the others', () => {
    const http = (status: number, detail: string) => new HttpStatusError(status, `POST x answered ${status} (request-id r1): ${detail}`, 'r1', undefined)
    expect(() => translateWriteError(http(400, 'title must be between 1 and 500 characters'), 'create', { fields: ['title'] })).toThrow(
      expect.objectContaining({ code: 'rejected', field: 'title' }),
    )
    expect(() => translateWriteError(http(404, 'Task WEB-9 not found'), 'update')).toThrow(expect.objectContaining({ code: 'not_found' }))
    expect(() => translateWriteError(http(413, 'too big'), 'upload', { limit: 10 })).toThrow(expect.objectContaining({ code: 'too_large', limit: 10 }))
    expect(() => translateWriteError(http(503, 'busy'), 'update')).toThrow(expect.objectContaining({ code: 'server_error' }))
  })
})

describe('multipart envelope', () => {
  it('declares exactly the bytes it yields', async () => {
    const chunks = [new Uint8Array([1, 2, 3]), new Uint8Array([4, 5])]
    const source = (async function* () {
      yield* chunks
    })()
    const m = multipartBody({ description: 'd' }, 'file', { filename: 'a\r\n"b', mediaType: null, size: 5, body: source }, source)
    const parts: Uint8Array[] = []
    for await (const p of m.body) parts.push(p)
    const body = Buffer.concat(parts)
    expect(body.length).toBe(m.length)
    expect(body.toString('latin1')).toContain('filename="a%0D%0A%22b"')
    const form = await new Request('http://x/', { method: 'POST', headers: { 'content-type': m.contentType }, body }).formData()
    expect(form.get('description')).toBe('d')
    expect(new Uint8Array(await (form.get('file') as File).arrayBuffer())).toEqual(new Uint8Array([1, 2, 3, 4, 5]))
  })
})

describe('Elean findByMarker', () => {
  it('takes the search answer when it finds the marker, without scanning the project', async () => {
    const routes: string[] = []
    const task = { id: 'u1', externalId: 'WEB-7', title: 'Pushed', description: 'x\nelsync:m:3', status: { id: 's', name: 'To Do', category: 'todo' } }
    const http: HttpClient = {
      name: 'fake',
      baseUrl: 'https://api.elean.app/v1/public/',
      request: async <T>(req: HttpRequest) => {
        routes.push(`${req.route} search=${req.searchParams?.search ?? ''}`)
        const body = req.searchParams?.search === 'elsync:m:3' ? { tasks: [task], meta: { hasMore: false } } : { tasks: [], meta: { hasMore: false } }
        return { status: 200, headers: {}, body: body as T, requestId: undefined }
      },
      stats: () => ({ requests: routes.length, budgetLeft: null, budgetPerMinute: null, skewMs: 0 }),
    }
    const writers = createEleanWriters({ http, streamConfig: () => ({ project: 'web' }) })
    expect((await writers.records.findByMarker('web', 'elsync:m:3', AbortSignal.timeout(1000)))?.externalKey).toBe('WEB-7')
    expect(routes).toEqual(['GET /{project}/tasks search=elsync:m:3'])
    expect(await writers.records.findByMarker('web', 'elsync:m:4', AbortSignal.timeout(1000))).toBeNull()
    expect(routes.slice(1)).toEqual(['GET /{project}/tasks search=elsync:m:4', 'GET /{project}/tasks search='])
  })
})
