import type { AdminApp } from '../schemas.js'
import { runView } from '../responses.js'
import { errors, idParams, secured } from '../schemas.js'
import type { AdminApi } from '../types.js'

/** `GET /v1/runs/:id`: one run: state, pages, records, requests, error. */
export function registerGetRun(app: AdminApp, api: AdminApi): void {
  app.get(
    '/v1/runs/:id',
    { schema: { tags: ['runs'], summary: 'One run', security: secured, params: idParams, response: { 200: runView, ...errors(404) } } },
    async (req) => api.run(req.params.id),
  )
}
