import { z } from 'zod'
import type { AdminApp } from '../schemas.js'
import { mappingPlan } from '../responses.js'
import { errors, name, secured } from '../schemas.js'
import type { AdminApi } from '../types.js'

const params = z.strictObject({ id: name })
const response = { 200: mappingPlan, ...errors(404, 409) }

/** `GET /v1/mappings/:id/plan`: what the next reconcile of the mapping would queue (a dry run: nothing is kept). */
export function registerGetMappingPlan(app: AdminApp, api: AdminApi): void {
  app.get(
    '/v1/mappings/:id/plan',
    { schema: { tags: ['mappings'], summary: 'Dry run of the next reconcile', security: secured, params, response } },
    async (req) => api.plan(req.params.id),
  )
}
