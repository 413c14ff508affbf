import { z } from 'zod'
import type { AdminApp } from '../schemas.js'
import { outboxView } from '../responses.js'
import { errors, limit, name, secured } from '../schemas.js'
import type { AdminApi } from '../types.js'

const querystring = z.strictObject({
  /** Absent: every row not settled yet. */
  state: z.enum(['pending', 'failed', 'dead']).optional(),
  mapping: name.optional(),
  limit: limit(1000, 100),
})
const response = { 200: z.strictObject({ outbox: z.array(outboxView) }), ...errors(404) }

/** `GET /v1/outbox`: writes waiting to be pushed (`pending`), waiting for a retry (`failed`) or given up (`dead`). */
export function registerGetOutbox(app: AdminApp, api: AdminApi): void {
  app.get('/v1/outbox', { schema: { tags: ['outbox'], summary: 'Writes not settled yet', security: secured, querystring, response } }, async (req) => {
    const { state, mapping, limit: n } = req.query
    return { outbox: await api.outbox({ limit: n, ...(state ? { state } : {}), ...(mapping ? { mapping } : {}) }) }
  })
}
