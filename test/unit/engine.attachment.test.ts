import { describe, expect, it } from 'vitest'
import { hasAttribution } from '../../src/engine/attribution.js'
import { type AttachmentCandidate, type AttachmentCopyStore, planAttachments } from '../../src/engine/children.attachments.js'
import { SyncError } from '../../src/engine/errors.js'
import type { AttachmentContent, AttachmentReader, AttachmentUploader, Connector, CopyQuery, FoundCopy } from '../../src/engine/ports.js'
import { pushAttachment } from '../../src/engine/push.attachment.js'
import type { MappingSpec, OutboxRequest, OutboxRow } from '../../src/engine/write.types.js'

// An attachment copy's decisions, against in-memory ports: no I/O.

const MB = 1024 * 1024
const signal = new AbortController().signal

class Coded extends SyncError {
  override readonly code: string
  constructor(code: string) {
    super(code)
    this.code = code
  }
}

interface World {
  log: string[]
  closed: number
  found: FoundCopy | null
  queries: CopyQuery[]
}

/** A source with one file of `size` bytes (listed as `listed`), and a target that takes `maxBytes`. */
function world(o: { size: number; maxBytes: number; addLink?: boolean; comments?: boolean; gone?: boolean; refuseAt?: number }) {
  const w: World = { log: [], closed: 0, found: null, queries: [] }
  const reader: AttachmentReader = {
    async open(_stream, parent, id) {
      if (o.gone) throw new Coded('not_found')
      w.log.push(`open ${parent}/${id}`)
      const body: AsyncIterableIterator<Uint8Array> = {
        [Symbol.asyncIterator]: () => body,
        next: async () => ({ done: true, value: undefined }),
        return: async () => {
          w.closed++
          return { done: true, value: undefined }
        },
      }
      return { filename: 'scan.pdf', mediaType: 'application/pdf', size: o.size, body }
    },
    linkOf: async (_s, parent, id) => `https://files.example.com/${parent}/${id}`,
  }
  const uploader: AttachmentUploader = {
    maxBytes: o.maxBytes,
    async upload(_s, parent, file: AttachmentContent) {
      if (o.refuseAt !== undefined) throw new Coded('too_large')
      w.log.push(`upload ${parent} ${file.filename} ${file.description}`)
      return {
        parentRemoteId: parent,
        attachmentId: 'copy-1',
        filename: file.filename,
        mediaType: file.mediaType,
        size: file.size,
        createdAt: null,
        document: {},
      }
    },
    async findCopy(_s, _parent, q) {
      w.queries.push(q)
      return w.found
    },
    ...(o.addLink
      ? {
          async addLink(_s: string, parent: string, link: { url: string; description: string }) {
            w.log.push(`link ${parent} ${link.url} ${JSON.stringify(link.description)}`)
            return { parentRemoteId: parent, attachmentId: 'link-1', filename: link.url, mediaType: 'text/uri-list', size: 0, createdAt: null, document: {} }
          },
        }
      : {}),
  }
  const connector = (kind: string, extra: Partial<Connector>): Connector =>
    ({
      kind,
      read: () => (async function* () {})(),
      readsFully: () => false,
      filtersServerSide: () => false,
      check: async () => {},
      stats: () => ({}),
      ...extra,
    }) as unknown as Connector
  const source = connector('elementum', { attachmentReader: reader })
  const target = connector('elean', {
    attachmentUploader: uploader,
    ...(o.comments === false
      ? {}
      : {
          comments: {
            async add(_s: string, parent: string, body: string) {
              w.log.push(`comment ${parent} ${JSON.stringify(body)}`)
              return { parentRemoteId: parent, commentId: 'c-1', body, author: null, createdAt: null, document: {} }
            },
            list: async () => [],
          },
        }),
  })
  return { w, source, target, connectorOf: (c: string) => (c === 'src' ? source : target) }
}

function row(o: { size: number | null; oversize?: 'link' | 'comment' | 'skip'; mediaType?: string; attempts?: number }): OutboxRow {
  return {
    id: 7,
    mappingId: 'm',
    linkId: 3,
    target: 'right',
    stream: { connection: 'dst', stream: 'web' },
    op: 'attachment',
    remoteId: 'T-1',
    values: {
      copyId: 12,
      source: { connection: 'src', stream: 'ops', remoteId: 'S-1', attachmentId: 'a-9' },
      filename: 'scan.pdf',
      mediaType: o.mediaType ?? 'application/pdf',
      size: o.size,
      oversize: o.oversize ?? 'link',
      marker: 'elsync-copy:m:12',
    },
    marker: 'elsync-copy:m:12',
    decisions: [],
    state: 'pending',
    attempts: o.attempts ?? 1,
    lastError: null,
    createdAt: new Date(0),
  }
}

describe('an attachment copy', () => {
  it('uploads the download with its marker, after looking for an earlier copy by name and size', async () => {
    const { w, target, connectorOf } = world({ size: 5 * MB, maxBytes: 10 * MB })
    const result = await pushAttachment(row({ size: 5 * MB }), target, connectorOf, signal)
    expect(w.queries).toEqual([{ as: 'file', filename: 'scan.pdf', size: 5 * MB, marker: 'elsync-copy:m:12' }])
    expect(w.log).toEqual(['open S-1/a-9', 'upload T-1 scan.pdf elsync-copy:m:12'])
    expect(result).toEqual({
      remoteId: 'T-1',
      record: null,
      attachment: { state: 'copied', targetAttachmentId: 'copy-1', targetCommentId: null, reason: null },
    })
  })

  it('finds the copy an earlier attempt made and neither downloads nor uploads it again', async () => {
    const { w, target, connectorOf } = world({ size: 5 * MB, maxBytes: 10 * MB })
    w.found = { as: 'attachment', id: 'copy-0' }
    const result = await pushAttachment(row({ size: 5 * MB, attempts: 2 }), target, connectorOf, signal)
    expect(w.log).toEqual([])
    expect(result.attachment).toMatchObject({ state: 'copied', targetAttachmentId: 'copy-0', reason: 'found on the target (copied by an earlier attempt)' })
  })

  it('opens a file whose size the source did not list to learn it before looking and uploading', async () => {
    const { w, target, connectorOf } = world({ size: 3 * MB, maxBytes: 10 * MB })
    await pushAttachment(row({ size: null }), target, connectorOf, signal)
    expect(w.queries[0]).toMatchObject({ as: 'file', size: 3 * MB })
    expect(w.log).toEqual(['open S-1/a-9', 'upload T-1 scan.pdf elsync-copy:m:12'])
  })

  it('puts an url-link in place of a file too large for a target that has links, without downloading it', async () => {
    const { w, target, connectorOf } = world({ size: 30 * MB, maxBytes: 10 * MB, addLink: true })
    const result = await pushAttachment(row({ size: 30 * MB }), target, connectorOf, signal)
    expect(w.log).toEqual([
      `link T-1 https://files.example.com/S-1/a-9 ${JSON.stringify(`scan.pdf (30.0 MB): ${30 * MB} bytes pass elean's limit of ${10 * MB} bytes\nelsync-copy:m:12`)}`,
    ])
    expect(result.attachment).toMatchObject({ state: 'linked', targetAttachmentId: 'link-1', targetCommentId: null })
  })

  it('posts the link as an attributed comment with its marker where the target has no links', async () => {
    const { w, target, connectorOf } = world({ size: 30 * MB, maxBytes: 10 * MB })
    const result = await pushAttachment(row({ size: 30 * MB }), target, connectorOf, signal)
    expect(w.queries).toEqual([{ as: 'comment', filename: 'scan.pdf', size: 30 * MB, marker: 'elsync-copy:m:12' }])
    const text = JSON.parse(w.log[0]?.replace(/^comment T-1 /, '') ?? '""') as string
    expect(text).toContain('https://files.example.com/S-1/a-9')
    expect(text).toContain('elsync-copy:m:12')
    expect(hasAttribution(text)).toBe(true)
    expect(result.attachment).toMatchObject({ state: 'linked', targetAttachmentId: null, targetCommentId: 'c-1' })
  })

  it('skips a file too large for the target under oversize: skip, saying why, writing nothing', async () => {
    const { w, target, connectorOf } = world({ size: 30 * MB, maxBytes: 10 * MB, addLink: true })
    const result = await pushAttachment(row({ size: 30 * MB, oversize: 'skip' }), target, connectorOf, signal)
    expect(w.log).toEqual([])
    expect(result.attachment).toEqual({
      state: 'skipped',
      targetAttachmentId: null,
      targetCommentId: null,
      reason: `${30 * MB} bytes pass elean's limit of ${10 * MB} bytes`,
    })
  })

  it('applies the oversize policy when the target refuses the bytes as too large, and closes the download', async () => {
    const { w, target, connectorOf } = world({ size: 0, maxBytes: 10 * MB, refuseAt: 10 * MB })
    const result = await pushAttachment(row({ size: null, oversize: 'comment' }), target, connectorOf, signal)
    expect(result.attachment).toMatchObject({ state: 'linked', targetCommentId: 'c-1' })
    expect(w.closed).toBeGreaterThan(0)
  })

  it('skips an attachment gone at the source', async () => {
    const { w, target, connectorOf } = world({ size: 1, maxBytes: 10 * MB, gone: true })
    const result = await pushAttachment(row({ size: 1 }), target, connectorOf, signal)
    expect(w.log).toEqual([])
    expect(result.attachment).toMatchObject({ state: 'skipped', reason: 'gone at the source' })
  })

  it('copies a link at the source as a link, whatever the oversize policy', async () => {
    const { w, target, connectorOf } = world({ size: 0, maxBytes: 10 * MB, addLink: true })
    const result = await pushAttachment(row({ size: 0, mediaType: 'text/uri-list', oversize: 'skip' }), target, connectorOf, signal)
    expect(w.log[0]).toMatch(/^link T-1 https:\/\/files\.example\.com\/S-1\/a-9 /)
    expect(result.attachment).toMatchObject({ state: 'linked', targetAttachmentId: 'link-1', reason: 'the source is a link' })
  })
})

describe('planning attachment copies', () => {
  const mapping = (direction: 'none' | 'both' | 'left-to-right'): MappingSpec => ({
    id: 'm',
    left: { connection: 'elementum', stream: 'ops' },
    right: { connection: 'elean', stream: 'web' },
    create: 'none',
    conflict: 'newest',
    delete: 'ignore',
    fields: [],
    attachments: { direction, oversize: 'skip' },
  })
  const candidate = (side: 'left' | 'right'): AttachmentCandidate => ({
    linkId: 1,
    source: { side, stream: { connection: side === 'left' ? 'elementum' : 'elean', stream: side === 'left' ? 'ops' : 'web' }, remoteId: `${side}-1` },
    attachmentId: `${side}-a`,
    filename: 'f.txt',
    mediaType: null,
    size: 2048,
    target: { side: side === 'left' ? 'right' : 'left', stream: { connection: 'x', stream: 'y' }, remoteId: `${side}-counterpart` },
  })
  function store() {
    const asked: string[] = []
    const enqueued: OutboxRequest[] = []
    const s: AttachmentCopyStore = {
      async candidates(_m, from) {
        asked.push(from)
        return [candidate(from)]
      },
      async enqueue(cs, request) {
        const out = cs.map((c, i) => request(c, 40 + i))
        enqueued.push(...out)
        return out
      },
    }
    return { s, asked, enqueued }
  }

  it('asks for candidates on each side the direction copies from, and queues a row per copy with its marker', async () => {
    const { s, asked, enqueued } = store()
    const plan = await planAttachments(mapping('both'), s)
    expect(asked).toEqual(['left', 'right'])
    expect(enqueued.map((r) => [r.op, r.target, r.stream.connection, r.remoteId, r.marker])).toEqual([
      ['attachment', 'right', 'elean', 'left-counterpart', 'elsync-copy:m:40'],
      ['attachment', 'left', 'elementum', 'right-counterpart', 'elsync-copy:m:40'],
    ])
    expect(plan.plan[0]).toBe('attach elean left-counterpart ← elementum left-1 "f.txt" (2.0 KB)')
  })

  it('plans nothing when the mapping copies no attachments, and a dry run queues nothing', async () => {
    const none = store()
    expect(await planAttachments(mapping('none'), none.s)).toEqual({ requests: [], plan: [] })
    expect(none.asked).toEqual([])
    const dry = store()
    const plan = await planAttachments(mapping('left-to-right'), dry.s, { dryRun: true })
    expect(dry.asked).toEqual(['left'])
    expect(dry.enqueued).toEqual([])
    expect(plan.plan).toHaveLength(1)
  })
})
