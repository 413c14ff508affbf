import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'

/** The admin server as routes see it: request schemas are zod, and so are the types of what they parse. */
export type AdminApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>

/** Every `/v1` route: the bearer token (for the OpenAPI document). */
export const secured = [{ bearer: [] }]

/** A row id in a path: digits only (a bigint column; beyond 15 digits nothing exists). */
export const idParams = z.strictObject({
  id: z
    .string()
    .regex(/^[1-9]\d{0,14}$/, { error: 'must be a positive integer' })
    .transform(Number),
})

/** A configured name (connection, stream, mapping). */
export const name = z.string().min(1).max(200)

export const limit = (max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,6}$/, { error: 'must be a positive integer' })
    .transform(Number)
    .pipe(z.number().int().min(1).max(max))
    .default(fallback)

/** Routes without a body accept none, or an empty JSON object. */
export const noBody = z.strictObject({}).nullish()

/** Every error the admin API answers: a stable snake_case code and a message for people. */
export const errorBody = z.strictObject({ error: z.strictObject({ code: z.string(), message: z.string() }) })

const ERRORS = {
  400: 'invalid_request or invalid_json: the message names the field',
  401: 'unauthorized: the admin bearer token is missing or wrong',
  404: 'not_found: no such route, connection, stream, mapping or id',
  409: 'understood but refused: the code says why',
  413: 'payload_too_large: the body is over 64 KB',
  415: 'unsupported_media_type: the body is not application/json',
  500: 'internal: the failure is logged, never sent',
} as const

/** A route's error answers for `schema.response`; 400, 401 and 500 apply to every `/v1` route. */
export function errors<S extends 404 | 409 | 413 | 415>(...more: S[]): Record<400 | 401 | 500 | S, typeof errorBody> {
  const statuses = [400, 401, 500, ...more] as const
  return Object.fromEntries(statuses.map((s) => [s, errorBody.describe(ERRORS[s])])) as Record<400 | 401 | 500 | S, typeof errorBody>
}

/** A route with a JSON body may also answer 413 and 415. */
export const bodyErrors = [413, 415] as const
