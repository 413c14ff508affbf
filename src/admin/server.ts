import { timingSafeEqual } from 'node:crypto'
import fastifySwagger from '@fastify/swagger'
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod'
import { AdminError } from './errors.js'
import { registerGetConflicts } from './routes/getConflicts.js'
import { registerGetMappingPlan } from './routes/getMappingPlan.js'
import { registerGetOutbox } from './routes/getOutbox.js'
import { registerGetRun } from './routes/getRun.js'
import { registerGetRuns } from './routes/getRuns.js'
import { registerGetStreams } from './routes/getStreams.js'
import { registerHealth } from './routes/health.js'
import { registerPostConflictResolve } from './routes/postConflictResolve.js'
import { registerPostMappingPause } from './routes/postMappingPause.js'
import { registerPostOutboxRetry } from './routes/postOutboxRetry.js'
import { registerPostResync } from './routes/postResync.js'
import type { AdminApp } from './schemas.js'
import type { AdminDeps } from './types.js'

export type { AdminDeps } from './types.js'

/**
 * The admin HTTP API, built without `listen` so tests use `app.inject()`. Health and
 * metrics are open; everything under `/v1` needs the admin bearer token. Requests are
 * validated by the routes' zod schemas, which `/openapi.json` is generated from. Every error
 * is `{error: {code, message}}`, without a stack trace; answers pass the redactor last.
 */

/** Admin bodies are a few fields: anything larger is refused with 413. */
export const ADMIN_BODY_LIMIT = 64 * 1024

export function tokenMatches(expected: string, header: string | undefined): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '')
  if (!m?.[1]) return false
  const a = Buffer.from(m[1])
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

const failure = (code: string, message: string) => ({ error: { code, message } })

const CONTEXTS: Record<string, string> = { querystring: 'query', params: 'path', body: 'body', headers: 'header' }

/** `body.since: Invalid ISO datetime; body: Unrecognized key: "foo"`: where, then what. */
function validationMessage(err: FastifyError): string {
  const where = CONTEXTS[err.validationContext ?? ''] ?? 'request'
  return (err.validation ?? [])
    .map((issue) => {
      const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.')
      return `${where}${path ? `.${path}` : ''}: ${issue.message ?? 'invalid'}`
    })
    .join('; ')
}

export function buildAdminServer(deps: AdminDeps): FastifyInstance {
  const app: AdminApp = Fastify({
    logger: false,
    bodyLimit: ADMIN_BODY_LIMIT,
    // what the router refuses before any route runs (a path segment too long, a URL it cannot decode)
    frameworkErrors: (err: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
      const tooLong = err.statusCode === 414
      void reply
        .code(tooLong ? 414 : 400)
        .send(failure(tooLong ? 'uri_too_long' : 'bad_request', tooLong ? 'a path segment is too long' : 'the URL is malformed'))
    },
  }).withTypeProvider<ZodTypeProvider>()
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.setErrorHandler((err: FastifyError, _req, reply) => {
    if (err instanceof AdminError) return reply.code(err.status).send(failure(err.code, err.message))
    if (hasZodFastifySchemaValidationErrors(err)) return reply.code(400).send(failure('invalid_request', validationMessage(err)))
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500
    if (status === 500) {
      deps.logger.error({ err }, 'admin request failed')
      return reply.code(500).send(failure('internal', 'internal error'))
    }
    if (status === 413) return reply.code(413).send(failure('payload_too_large', `the body is larger than ${ADMIN_BODY_LIMIT} bytes`))
    if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err instanceof SyntaxError)
      return reply.code(400).send(failure('invalid_json', 'the body is not valid JSON'))
    if (status === 415) return reply.code(415).send(failure('unsupported_media_type', 'send the body as application/json'))
    return reply.code(status).send(failure('bad_request', err.message))
  })
  app.setNotFoundHandler((_req, reply) => void reply.code(404).send(failure('not_found', 'no such route')))
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/v1')) return
    if (!tokenMatches(deps.adminToken, req.headers.authorization)) {
      return reply.code(401).send(failure('unauthorized', 'missing or invalid admin token'))
    }
  })
  const redact = deps.redact
  if (redact) app.addHook('onSend', async (_req, _reply, payload) => (typeof payload === 'string' ? redact(payload) : payload))

  void app.register(fastifySwagger, {
    openapi: {
      info: { title: 'elsync admin API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'ELSYNC_ADMIN_TOKEN' } } },
    },
    transform: jsonSchemaTransform,
  })
  registerHealth(app, deps)
  const api = deps.api
  if (api) {
    // a plugin, so that the swagger plugin registered above sees these routes
    void app.register(async (v1: AdminApp) => {
      registerGetStreams(v1, api)
      registerPostResync(v1, api)
      registerGetRuns(v1, api)
      registerGetRun(v1, api)
      registerGetOutbox(v1, api)
      registerPostOutboxRetry(v1, api)
      registerGetConflicts(v1, api)
      registerPostConflictResolve(v1, api)
      registerPostMappingPause(v1, api)
      registerGetMappingPlan(v1, api)
    })
  }
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  return app
}
