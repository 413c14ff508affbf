import type { AdminApp } from '../schemas.js'
import { retried } from '../responses.js'
import { bodyErrors, errors, idParams, noBody, secured } from '../schemas.js'
import type { AdminApi } from '../types.js'

/** `POST /v1/outbox/:id/retry`: a dead (or failed) write is due again now, with a fresh count of attempts. */
export function registerPostOutboxRetry(app: AdminApp, api: AdminApi): void {
  app.post(
    '/v1/outbox/:id/retry',
    {
      schema: {
        tags: ['outbox'],
        summary: 'Retry a dead or failed write now',
        security: secured,
        params: idParams,
        body: noBody,
        response: { 200: retried, ...errors(404, 409, ...bodyErrors) },
      },
    },
    async (req) => api.retryOutbox(req.params.id),
  )
}
