import { randomUUID } from 'node:crypto'
import { isJsonObject, SimHttpError, type SimRequest, type SimRoute } from '../common/index.js'
import { commentView } from './activity.routes.js'
import { attachmentState } from './attachments.routes.js'
import { fieldsOf, jsonObject, namespaceOf, recordOf } from './context.js'
import { seedNamespace } from './seed.js'
import { isRecordType, type ElementumStore, type RecordType } from './store.js'
import type { ElementumAuth } from './auth.js'
import { DIRECTORY_USERS, type ElementumUser } from './users.js'

/**
 * Elementum's part of the control surface (mounted under `/_sim`): seeding, acting as a
 * human in the web UI (edits, comments, related items, watchers, deletes, creates), adding people
 * to the workspace, dumping a namespace, revoking tokens. Relating records and watching them
 * leave `Updated on` alone, as adding a comment does.
 */

function recordTypeOf(raw: unknown): RecordType {
  const rt = raw ?? 'tasks'
  if (typeof rt !== 'string' || !isRecordType(rt)) throw new SimHttpError(400, 'recordType must be one of apps, elements, tasks, transactions')
  return rt
}

/** `author` may be a directory user's email, or `{firstName, lastName, email}`; defaults to the first directory user. */
function authorOf(store: ElementumStore, raw: unknown): ElementumUser {
  if (raw === undefined) return DIRECTORY_USERS[0] as ElementumUser
  if (typeof raw === 'string') {
    const user = store.findUser({ email: raw })
    if (!user) throw new SimHttpError(400, `author ${raw} is not a directory user`)
    return user
  }
  if (isJsonObject(raw) && typeof raw.email === 'string') {
    return (
      store.findUser({ email: raw.email }) ?? {
        id: randomUUID(),
        firstName: typeof raw.firstName === 'string' ? raw.firstName : '',
        lastName: typeof raw.lastName === 'string' ? raw.lastName : '',
        email: raw.email,
      }
    )
  }
  throw new SimHttpError(400, 'author must be an email or {firstName, lastName, email}')
}

/**
 * `{fields: {...}, author?}`, or a bare field map; the person making the change is `author`
 * (see `authorOf`) in the first form, the first directory user in the second.
 */
function humanEdit(store: ElementumStore, req: SimRequest): { fields: ReturnType<typeof fieldsOf>; by: ElementumUser } {
  const body = jsonObject(req)
  if (isJsonObject(body.fields)) return { fields: fieldsOf(body.fields), by: authorOf(store, body.author) }
  return { fields: fieldsOf(body), by: authorOf(store, undefined) }
}

export function controlRoutes(store: ElementumStore, auth: ElementumAuth, defaultSeed: number): SimRoute[] {
  const rec = '/records/:recordType/:alias'
  return [
    {
      method: 'POST',
      pattern: '/seed',
      handler: (req) => {
        const body = jsonObject(req)
        if (typeof body.alias !== 'string' || body.alias === '') throw new SimHttpError(400, 'alias is required')
        if (body.seed !== undefined && !Number.isInteger(body.seed)) throw new SimHttpError(400, 'seed must be an integer')
        const seed = typeof body.seed === 'number' ? body.seed : defaultSeed
        return { status: 201, body: seedNamespace(store, recordTypeOf(body.recordType), body.alias, Number(body.count ?? NaN), seed) }
      },
    },
    {
      method: 'POST',
      pattern: rec,
      handler: (req) => {
        const recordType = recordTypeOf(req.params.recordType)
        const ns = store.ensureNamespace(recordType, req.params.alias ?? '')
        const { fields, by } = humanEdit(store, req)
        return { status: 201, body: store.create(ns, fields, { by }).data }
      },
    },
    {
      method: 'GET',
      pattern: rec,
      handler: (req) => {
        const ns = namespaceOf(store, req)
        const now = store.clock.now()
        const items = ns.order.map((seq) => {
          const r = ns.bySeq.get(seq)
          if (!r) throw new Error(`namespace index out of step at seq ${seq}`)
          return {
            data: r.data,
            comments: r.comments.map(commentView),
            related: r.related.map(({ seq: _s, ...rest }) => rest),
            watchers: r.watchers,
            attachments: r.attachments.map((a) => {
              const { content: _content, seq: _seq, readyAtMs: _ready, ...meta } = a
              return { ...meta, state: attachmentState(a, now) }
            }),
          }
        })
        return { status: 200, body: { recordType: ns.recordType, alias: ns.alias, total: items.length, items } }
      },
    },
    {
      method: 'POST',
      pattern: `${rec}/:id/edit`,
      handler: (req) => {
        const record = recordOf(store, req)
        const { fields, by } = humanEdit(store, req)
        store.update(record, fields, { alwaysBump: true, by })
        return { status: 200, body: record.data }
      },
    },
    {
      method: 'POST',
      pattern: `${rec}/:id/comments`,
      handler: (req) => {
        const record = recordOf(store, req)
        const body = jsonObject(req)
        if (typeof body.contents !== 'string' || body.contents.trim() === '') throw new SimHttpError(400, 'contents is required')
        const comment = store.addComment(record, { contents: body.contents, source: 'WEB', author: authorOf(store, body.author) })
        return { status: 201, body: commentView(comment) }
      },
    },
    {
      method: 'POST',
      pattern: `${rec}/:id/related`,
      handler: (req) => {
        const record = recordOf(store, req)
        const body = jsonObject(req)
        if (typeof body.id !== 'string' || body.id === '') throw new SimHttpError(400, 'id is required')
        if (body.alias !== undefined && typeof body.alias !== 'string') throw new SimHttpError(400, 'alias must be a string')
        const { seq: _seq, ...relation } = store.relate(record, { id: body.id, alias: body.alias })
        return { status: 201, body: relation }
      },
    },
    {
      method: 'DELETE',
      pattern: `${rec}/:id/related/:relatedId`,
      handler: (req) => {
        const key = req.params.relatedId ?? ''
        if (!store.unrelate(recordOf(store, req), key)) throw new SimHttpError(404, `Related item "${key}" not found`)
        return { status: 204 }
      },
    },
    {
      method: 'POST',
      pattern: `${rec}/:id/watchers`,
      handler: (req) => {
        const record = recordOf(store, req)
        const body = jsonObject(req)
        const user = typeof body.email === 'string' ? store.findUser({ email: body.email }) : undefined
        if (!user) throw new SimHttpError(400, 'email must be a user of this workspace (see POST /_sim/users)')
        if (!record.watchers.some((w) => w.id === user.id)) record.watchers.push(user)
        return { status: 201, body: record.watchers }
      },
    },
    {
      method: 'POST',
      pattern: '/users',
      handler: (req) => {
        const body = jsonObject(req)
        if (typeof body.email !== 'string' || !body.email.includes('@')) throw new SimHttpError(400, 'email is required')
        const existing = store.findUser({ email: body.email })
        if (existing) return { status: 200, body: existing }
        const user: ElementumUser = {
          id: randomUUID(),
          firstName: typeof body.firstName === 'string' ? body.firstName : '',
          lastName: typeof body.lastName === 'string' ? body.lastName : '',
          email: body.email.toLowerCase(),
        }
        store.people.push(user)
        return { status: 201, body: user }
      },
    },
    {
      method: 'DELETE',
      pattern: `${rec}/:id`,
      handler: (req) => {
        store.remove(recordOf(store, req))
        return { status: 204 }
      },
    },
    { method: 'POST', pattern: '/tokens/revoke', handler: () => (auth.revokeAll(), { status: 204 }) },
    {
      // `{"write": false}`: the client may read the record type but not write to it (403)
      method: 'PUT',
      pattern: '/permissions/:recordType/:alias',
      handler: (req) => {
        const body = jsonObject(req)
        if (typeof body.write !== 'boolean') throw new SimHttpError(400, 'write must be true or false')
        auth.setWrite(recordTypeOf(req.params.recordType), req.params.alias ?? '', body.write)
        return { status: 204 }
      },
    },
  ]
}
