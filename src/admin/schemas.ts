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
