import { z } from 'zod'
import type { AdminApp } from '../schemas.js'
import { errors, bodyErrors, name, secured } from '../schemas.js'
import type { AdminApi } from '../types.js'

const body = z.strictObject({
  connection: name,
  /** Absent: every stream of the connection. */
  stream: name.optional(),
  mode: z.enum(['incremental', 'full']).default('incremental'),
  /** The run's window reaches back at least to this time; the stored cursor is not moved back. */
  since: z.iso.datetime({ offset: true }).optional(),
})
const response = { 202: z.strictObject({ runs: z.array(z.number().int()).describe('the queued runs, one per stream') }), ...errors(404, ...bodyErrors) }

/**
 * `POST /v1/resync`: queues one run per stream; 202 with their ids. Each waits behind a running
 * run of its stream and is run by whichever replica gets to it (src/resync.ts).
 */
export function registerPostResync(app: AdminApp, api: AdminApi): void {
  app.post(
    '/v1/resync',
    { schema: { tags: ['streams'], summary: 'Queue a resync of a connection or one stream', security: secured, body, response } },
    async (req, reply) => {
      const { since, ...rest } = req.body
      const runs = await api.resync({ ...rest, ...(since ? { since: new Date(since) } : {}) })
      return reply.code(202).send({ runs })
    },
  )
}
