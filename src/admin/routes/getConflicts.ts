import { z } from 'zod'
import type { AdminApp } from '../schemas.js'
import { conflictView } from '../responses.js'
import { errors, limit, name, secured } from '../schemas.js'
import type { AdminApi } from '../types.js'

const querystring = z.strictObject({ state: z.enum(['open', 'resolved']).optional(), mapping: name.optional(), limit: limit(1000, 100) })
const response = { 200: z.strictObject({ conflicts: z.array(conflictView) }), ...errors(404) }

/** `GET /v1/conflicts`: conflicts, newest first; `state=open`: the `manual` ones waiting for an admin. */
export function registerGetConflicts(app: AdminApp, api: AdminApi): void {
  app.get('/v1/conflicts', { schema: { tags: ['conflicts'], summary: 'Field conflicts', security: secured, querystring, response } }, async (req) => {
    const { state, mapping, limit: n } = req.query
    return { conflicts: await api.conflicts({ limit: n, ...(state ? { state } : {}), ...(mapping ? { mapping } : {}) }) }
  })
}
