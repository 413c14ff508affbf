import { z } from 'zod'
import type { AdminApp } from '../schemas.js'
import { runView } from '../responses.js'
import { errors, limit, name, secured } from '../schemas.js'
import type { AdminApi } from '../types.js'

const querystring = z.strictObject({ connection: name.optional(), stream: name.optional(), limit: limit(500, 50) })
const response = { 200: z.strictObject({ runs: z.array(runView) }), ...errors(404) }

/** `GET /v1/runs`: the latest runs, newest first, queued resyncs included. */
export function registerGetRuns(app: AdminApp, api: AdminApi): void {
  app.get('/v1/runs', { schema: { tags: ['runs'], summary: 'The latest runs', security: secured, querystring, response } }, async (req) => {
    const { connection, stream, limit: n } = req.query
    return { runs: await api.runs({ limit: n, ...(connection ? { connection } : {}), ...(stream ? { stream } : {}) }) }
  })
}
