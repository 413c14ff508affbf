import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { parseMultipart, SimHttpError, type SimRoute } from '../common/server.js'
import { API_PREFIX, projectOf, taskOf, type EleanDeps } from './context.js'
import type { Attachment } from './model.js'

/**
 * Attachments: multipart upload, details with a presigned download URL, and the
 * download route itself (`/_files/{token}`, outside the API prefix and needing no key,
 * like an object-store URL). A token names project, task, attachment and expiry and is
 * HMAC-signed, so the simulator keeps no table of issued URLs.
 */

const P = `${API_PREFIX}/:project/tasks/:taskId/attachments`
const URL_TTL_MS = 3_600_000

interface Claims {
  p: string
  t: string
  a: string
  e: number
}

export function attachmentRoutes(deps: EleanDeps): SimRoute[] {
  const { store, keys, clock } = deps
  const secret = randomBytes(32)
  const sign = (payload: string): Buffer => createHmac('sha256', secret).update(payload).digest()

  const details = (project: string, a: Attachment): Record<string, unknown> => {
    const claims: Claims = { p: project, t: a.taskId, a: a.id, e: clock.now() + URL_TTL_MS }
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url')
    const token = `${payload}.${sign(payload).toString('base64url')}`
    return {
      id: a.id,
      filename: a.filename,
      url: `${deps.server().url}/_files/${token}`,
      mimeType: a.mimeType,
      size: a.size,
      createdAt: new Date(a.createdAt).toISOString(),
    }
  }

  const verify = (token: string): Claims => {
    const [payload = '', sig = ''] = token.split('.')
    const given = Buffer.from(sig, 'base64url')
    const expected = sign(payload)
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new SimHttpError(403, 'Invalid signature')
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Claims
    if (clock.now() >= claims.e) throw new SimHttpError(403, 'URL expired')
    return claims
  }

  return [
    {
      method: 'POST',
      pattern: P,
      handler: async (req) => {
        keys.authorize(req, 'task:create')
        const project = projectOf(deps, req)
        const task = taskOf(deps, project, req)
        const file = (await parseMultipart(req)).get('file')
        if (file === null || typeof file === 'string') throw new SimHttpError(400, 'file is required (multipart field "file")')
        if (file.size > deps.maxAttachmentBytes) throw new SimHttpError(413, `file exceeds the maximum size of ${deps.maxAttachmentBytes} bytes`)
        const attachment = store.addAttachment(task, {
          filename: file.name || 'file',
          mimeType: file.type || 'application/octet-stream',
          data: Buffer.from(await file.arrayBuffer()),
        })
        return { status: 201, body: details(project.slug, attachment) }
      },
    },
    {
      method: 'GET',
      pattern: `${P}/:attachmentId`,
      handler: (req) => {
        keys.authorize(req, 'task:read')
        const project = projectOf(deps, req)
        const task = taskOf(deps, project, req)
        const attachment = task.attachments.find((a) => a.id === req.params.attachmentId)
        if (!attachment) throw new SimHttpError(404, `Attachment ${req.params.attachmentId ?? ''} not found`)
        return { status: 200, body: details(project.slug, attachment) }
      },
    },
    {
      method: 'GET',
      pattern: '/_files/:token',
      handler: (req) => {
        // Like an object store: the signature in the URL is the only credential, and a second one is refused.
        if (req.headers.authorization !== undefined) throw new SimHttpError(400, 'Only one auth mechanism allowed: the URL is presigned')
        const claims = verify(req.params.token ?? '')
        const project = store.project(claims.p)
        const attachment = project && store.findTask(project, claims.t)?.attachments.find((a) => a.id === claims.a)
        if (!attachment) throw new SimHttpError(404, 'File not found')
        return {
          status: 200,
          body: attachment.data,
          headers: {
            'content-type': attachment.mimeType,
            'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(attachment.filename)}`,
          },
        }
      },
    },
  ]
}
