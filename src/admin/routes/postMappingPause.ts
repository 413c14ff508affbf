import { z } from 'zod'
import type { AdminApp } from '../schemas.js'
import { pauseState } from '../responses.js'
import { bodyErrors, errors, name, noBody, secured } from '../schemas.js'
import type { AdminApi } from '../types.js'

const params = z.strictObject({ id: name })
const response = { 200: pauseState, ...errors(404, ...bodyErrors) }

/**
 * `POST /v1/mappings/:id/pause` and `/resume`: a paused mapping is not reconciled and its queued
 * writes are not pushed, on every replica and across restarts; resuming goes on from where it stopped.
 */
export function registerPostMappingPause(app: AdminApp, api: AdminApi): void {
  for (const [action, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    app.post(
      `/v1/mappings/:id/${action}`,
      { schema: { tags: ['mappings'], summary: `${action === 'pause' ? 'Pause' : 'Resume'} a mapping`, security: secured, params, body: noBody, response } },
      async (req) => api.setPaused(req.params.id, paused),
    )
  }
}
