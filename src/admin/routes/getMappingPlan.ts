import { z } from 'zod'
import type { AdminApp } from '../schemas.js'
import { name, secured } from '../schemas.js'
import type { AdminApi } from '../types.js'

const params = z.strictObject({ id: name })

/** `GET /v1/mappings/:id/plan`: what the next reconcile of the mapping would queue (a dry run: nothing is kept). */
export function registerGetMappingPlan(app: AdminApp, api: AdminApi): void {
  app.get('/v1/mappings/:id/plan', { schema: { tags: ['mappings'], summary: 'Dry run of the next reconcile', security: secured, params } }, async (req) =>
    api.plan(req.params.id),
  )
}
