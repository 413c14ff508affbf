/**
 * `auth` of a connection, discriminated on `mode`. The modes are those of a REST data source
 * (vendor-docs/rest-datasource-auth-modes.txt) plus bearer and an authorization-code grant's
 * refresh token. Fields listed in SECRET_AUTH_FIELDS are redacted wherever they could surface.
 */
import { z } from 'zod'
import { headerName, nonEmpty, secureUrl, singleLine } from './schema.primitives.js'

export const AUTH_MODES = ['none', 'basic', 'api-key', 'bearer', 'oauth2-client-credentials', 'oauth2-refresh-token'] as const

export const noAuthSchema = z.strictObject({ mode: z.literal('none') })

export const basicAuthSchema = z.strictObject({
  mode: z.literal('basic'),
  // RFC 7617: the user-id cannot contain a colon, the password can.
  username: singleLine.refine((s) => !s.includes(':'), { error: 'must not contain ":"' }),
  password: nonEmpty,
})

export const apiKeyAuthSchema = z
  .strictObject({
    mode: z.literal('api-key'),
    in: z.enum(['header', 'query']),
    name: singleLine,
    value: singleLine,
  })
  .superRefine((auth, ctx) => {
    if (auth.in === 'header' && !headerName.safeParse(auth.name).success) {
      ctx.addIssue({ code: 'custom', path: ['name'], message: 'must be a valid HTTP header name' })
    }
  })

export const bearerAuthSchema = z.strictObject({
  mode: z.literal('bearer'),
  token: singleLine,
})

export const clientCredentialsAuthSchema = z.strictObject({
  mode: z.literal('oauth2-client-credentials'),
  /** Optional where the kind implies it (Elementum: `{host}/oauth/token`; AvePoint: its identity endpoint). */
  tokenUrl: secureUrl.optional(),
  clientId: singleLine,
  clientSecret: nonEmpty,
  scope: singleLine.optional(),
  /** How the client authenticates to the token endpoint: HTTP Basic header or form body. */
  clientAuth: z.enum(['basic', 'body']).default('basic'),
})

export const refreshTokenAuthSchema = z.strictObject({
  mode: z.literal('oauth2-refresh-token'),
  tokenUrl: secureUrl,
  clientId: singleLine,
  clientSecret: nonEmpty.optional(),
  /** The initial refresh token; rotated ones are persisted encrypted (ELSYNC_SECRET_KEY). */
  refreshToken: nonEmpty,
  scope: singleLine.optional(),
})

export const authSchema = z.discriminatedUnion('mode', [
  noAuthSchema,
  basicAuthSchema,
  apiKeyAuthSchema,
  bearerAuthSchema,
  clientCredentialsAuthSchema,
  refreshTokenAuthSchema,
])

export type AuthConfig = z.output<typeof authSchema>
export type AuthMode = AuthConfig['mode']
export type NoAuth = z.output<typeof noAuthSchema>
export type BasicAuth = z.output<typeof basicAuthSchema>
export type ApiKeyAuth = z.output<typeof apiKeyAuthSchema>
export type BearerAuth = z.output<typeof bearerAuthSchema>
export type ClientCredentialsAuth = z.output<typeof clientCredentialsAuthSchema>
export type RefreshTokenAuth = z.output<typeof refreshTokenAuthSchema>

/** Which fields of each mode hold secrets. */
export const SECRET_AUTH_FIELDS: { readonly [M in AuthMode]: readonly string[] } = {
  none: [],
  basic: ['password'],
  'api-key': ['value'],
  bearer: ['token'],
  'oauth2-client-credentials': ['clientSecret'],
  'oauth2-refresh-token': ['clientSecret', 'refreshToken'],
}
