import { z } from 'zod'
import type { AdminApp } from '../schemas.js'
import { resolution } from '../responses.js'
import { bodyErrors, errors, idParams, secured } from '../schemas.js'
import type { AdminApi } from '../types.js'

const body = z.strictObject({ winner: z.enum(['left', 'right']) })
const response = { 200: resolution, ...errors(404, 409, ...bodyErrors) }

/**
 * `POST /v1/conflicts/:id/resolve`: the winner's current value is queued for the other side,
 * the field's base moves and the field flows again; the conflict is resolved by `admin`.
 */
export function registerPostConflictResolve(app: AdminApp, api: AdminApi): void {
  app.post(
    '/v1/conflicts/:id/resolve',
    { schema: { tags: ['conflicts'], summary: 'Resolve an open manual conflict', security: secured, params: idParams, body, response } },
    async (req) => api.resolveConflict(req.params.id, req.body.winner),
  )
}
