import { isJsonObject, parseJsonBody, SimHttpError, type SimRequest, type SimRoute } from '../common/index.js'
import { apiRoute, recordOf, type ElementumContext } from './context.js'
import { childPage } from './paging.js'
import type { ElementumComment, ElementumStore } from './store.js'
import { API_USER, type ElementumUser } from './users.js'

/** Comments (`/comment`, singular, text/plain in; no edit or delete) and watchers. */

export function commentView(c: ElementumComment): Omit<ElementumComment, 'seq'> {
  return { id: c.id, createdAt: c.createdAt, source: c.source, contents: c.contents, createdBy: c.createdBy }
}

/** Users named by a watcher body or query: `{userId}` / `{email}`, or an array of them. */
function watcherRefs(req: SimRequest, store: ElementumStore): ElementumUser[] {
  const fromQuery = { userId: req.query.get('userId') ?? undefined, email: req.query.get('email') ?? undefined }
  const body = req.body.length > 0 ? parseJsonBody(req) : fromQuery
  const refs = Array.isArray(body) ? body : [body]
  if (refs.length === 0) throw new SimHttpError(400, 'Name at least one watcher by userId or email')
  return refs.map((ref) => {
    if (!isJsonObject(ref) || (typeof ref.userId !== 'string' && typeof ref.email !== 'string'))
      throw new SimHttpError(400, 'A watcher is named by {userId} or {email}')
    const user = store.findUser(ref)
    if (!user) throw new SimHttpError(404, `User ${String(ref.userId ?? ref.email)} not found`)
    return user
  })
}

export function activityRoutes(ctx: ElementumContext): SimRoute[] {
  const { store } = ctx
  return [
    apiRoute(ctx, 'GET', '/:recordType/:alias/:id/comment', (req) => childPage(req, recordOf(store, req).comments, commentView)),
    apiRoute(ctx, 'POST', '/:recordType/:alias/:id/comment', (req) => {
      const record = recordOf(store, req)
      const type = String(req.headers['content-type'] ?? '').toLowerCase()
      if (!type.startsWith('text/plain')) throw new SimHttpError(400, 'Comment body must be text/plain')
      const contents = req.body.toString('utf8')
      if (contents.trim() === '') throw new SimHttpError(400, 'Comment must not be empty')
      // A comment does not touch the record's `Updated on`.
      const comment = store.addComment(record, { contents, source: 'API', author: API_USER })
      return { status: 201, body: comment.id, headers: { 'content-type': 'text/plain; charset=utf-8' } }
    }),

    apiRoute(ctx, 'GET', '/:recordType/:alias/:id/watchers', (req) => ({ status: 200, body: recordOf(store, req).watchers })),
    apiRoute(ctx, 'POST', '/:recordType/:alias/:id/watchers', (req) => {
      const record = recordOf(store, req)
      for (const user of watcherRefs(req, store)) if (!record.watchers.some((w) => w.id === user.id)) record.watchers.push(user)
      return { status: 201, body: record.watchers }
    }),
    apiRoute(ctx, 'DELETE', '/:recordType/:alias/:id/watchers', (req) => {
      const record = recordOf(store, req)
      const gone = new Set(watcherRefs(req, store).map((u) => u.id))
      record.watchers = record.watchers.filter((w) => !gone.has(w.id))
      return { status: 204 }
    }),
  ]
}
