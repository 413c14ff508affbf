import { randomUUID } from 'node:crypto'
import { parseMultipart, SimHttpError, type SimRequest, type SimRoute } from '../common/index.js'
import { apiRoute, jsonObject, recordOf, type ElementumContext } from './context.js'
import type { ElementumAttachment, ElementumRecord } from './store.js'

/**
 * Attachments: uploads answer 202 and stay PROCESSING for `processingMs` of simulated time
 * (state is derived from the clock when read); url-links are VALID at once.
 */

export type AttachmentState = 'VALID' | 'PROCESSING' | 'ERROR'

export function attachmentState(a: ElementumAttachment, nowMs: number): AttachmentState {
  if (a.failed) return 'ERROR'
  return a.url !== undefined || nowMs >= a.readyAtMs ? 'VALID' : 'PROCESSING'
}

function findAttachment(record: ElementumRecord, req: SimRequest): ElementumAttachment {
  const id = req.params.attachmentId
  const found = record.attachments.find((a) => a.id === id)
  if (!found) throw new SimHttpError(404, `Attachment "${id}" not found`)
  return found
}

export function attachmentRoutes(ctx: ElementumContext): SimRoute[] {
  const { store } = ctx
  const base = '/:recordType/:alias/:id/attachments'

  const view = (req: SimRequest, record: ElementumRecord, a: ElementumAttachment): Record<string, unknown> => {
    const host = String(req.headers.host ?? '127.0.0.1')
    const path = ['v1', record.recordType, record.alias, record.data.id ?? '', 'attachments', a.id, 'content'].map(encodeURIComponent).join('/')
    return {
      id: a.id,
      name: a.name,
      description: a.description,
      mediaType: a.mediaType,
      size: a.size,
      state: attachmentState(a, store.clock.now()),
      viewState: a.viewState,
      contentUrl: a.url ?? `http://${host}/${path}`,
      createdAt: a.createdAt,
    }
  }

  const add = (record: ElementumRecord, a: Omit<ElementumAttachment, 'seq' | 'id' | 'createdAt'>): ElementumAttachment => {
    const attachment: ElementumAttachment = { ...a, seq: store.nextSeq(), id: randomUUID(), createdAt: store.clock.nowIso() }
    record.attachments.push(attachment)
    return attachment
  }

  return [
    apiRoute(ctx, 'GET', base, (req) => {
      const record = recordOf(store, req)
      return { status: 200, body: record.attachments.map((a) => view(req, record, a)) }
    }),
    apiRoute(ctx, 'POST', base, async (req) => {
      const record = recordOf(store, req)
      const form = await parseMultipart(req)
      const file = form.get('file')
      if (file === null || typeof file === 'string') throw new SimHttpError(400, 'Multipart field "file" (a file) is required')
      if (file.size > ctx.maxAttachmentBytes) throw new SimHttpError(413, `Attachment exceeds the maximum size of ${ctx.maxAttachmentBytes} bytes`)
      const description = form.get('description')
      const viewState = form.get('viewState')
      const attachment = add(record, {
        name: file.name || 'file',
        description: typeof description === 'string' ? description : '',
        mediaType: file.type || 'application/octet-stream',
        size: file.size,
        viewState: viewState === 'PUBLIC' ? 'PUBLIC' : 'PRIVATE',
        readyAtMs: store.clock.now() + ctx.processingMs,
        content: Buffer.from(await file.arrayBuffer()),
      })
      return { status: 202, body: view(req, record, attachment) }
    }),
    apiRoute(ctx, 'POST', `${base}/url-links`, (req) => {
      const record = recordOf(store, req)
      const body = jsonObject(req)
      if (typeof body.url !== 'string' || !URL.canParse(body.url)) throw new SimHttpError(400, 'url must be an absolute URL')
      if (body.description !== undefined && typeof body.description !== 'string') throw new SimHttpError(400, 'description must be a string')
      const attachment = add(record, {
        name: body.url,
        description: body.description ?? '',
        mediaType: 'text/uri-list',
        size: 0,
        viewState: 'PRIVATE',
        readyAtMs: store.clock.now(),
        url: body.url,
      })
      return { status: 201, body: view(req, record, attachment) }
    }),
    apiRoute(ctx, 'GET', `${base}/:attachmentId`, (req) => {
      const record = recordOf(store, req)
      return { status: 200, body: view(req, record, findAttachment(record, req)) }
    }),
    apiRoute(ctx, 'GET', `${base}/:attachmentId/content`, (req) => {
      const a = findAttachment(recordOf(store, req), req)
      if (a.url !== undefined) return { status: 302, headers: { location: a.url } }
      if (attachmentState(a, store.clock.now()) !== 'VALID') throw new SimHttpError(409, 'Attachment is still processing')
      return {
        status: 200,
        body: a.content ?? Buffer.alloc(0),
        headers: { 'content-type': a.mediaType, 'content-disposition': `attachment; filename="${encodeURIComponent(a.name)}"` },
      }
    }),
    apiRoute(ctx, 'DELETE', `${base}/:attachmentId`, (req) => {
      const record = recordOf(store, req)
      const a = findAttachment(record, req)
      record.attachments = record.attachments.filter((x) => x !== a)
      return { status: 204 }
    }),
  ]
}
