import { z } from 'zod'
import { streamStatus } from '../responses.js'
import type { AdminApp } from '../schemas.js'
import { errors, secured } from '../schemas.js'
import type { AdminApi } from '../types.js'

/** `GET /v1/streams`: every configured stream, its cursor, last run, lag, last error and failures in a row. */
export function registerGetStreams(app: AdminApp, api: AdminApi): void {
  app.get(
    '/v1/streams',
    {
      schema: {
        tags: ['streams'],
        summary: 'The state of every configured stream',
        security: secured,
        response: { 200: z.strictObject({ streams: z.array(streamStatus) }), ...errors() },
      },
    },
    async () => ({
      streams: await api.streams(),
    }),
  )
}
