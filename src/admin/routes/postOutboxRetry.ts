import type { AdminApp } from '../schemas.js'
import { idParams, noBody, secured } from '../schemas.js'
import type { AdminApi } from '../types.js'

/** `POST /v1/outbox/:id/retry`: a dead (or failed) write is due again now, with a fresh count of attempts. */
export function registerPostOutboxRetry(app: AdminApp, api: AdminApi): void {
  app.post(
    '/v1/outbox/:id/retry',
    { schema: { tags: ['outbox'], summary: 'Retry a dead or failed write now', security: secured, params: idParams, body: noBody } },
    async (req) => api.retryOutbox(req.params.id),
  )
}
