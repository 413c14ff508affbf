import { timingSafeEqual } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import { registerHealth } from './routes/health.js'
import type { AdminDeps } from './types.js'

export type { AdminDeps } from './types.js'

/**
 * The admin HTTP API, built without `listen` so tests use `app.inject()`. Health and
 * metrics are open; everything under `/v1` needs the admin bearer token.
 */

export function tokenMatches(expected: string, header: string | undefined): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '')
  if (!m?.[1]) return false
  const a = Buffer.from(m[1])
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

export function buildAdminServer(deps: AdminDeps): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 })
  app.setErrorHandler((err: { statusCode?: number; message: string }, _req, reply) => {
    const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500
    if (status === 500) deps.logger.error({ err }, 'admin request failed')
    void reply.code(status).send({ error: { code: status === 500 ? 'internal' : 'bad_request', message: status === 500 ? 'internal error' : err.message } })
  })
  app.setNotFoundHandler((_req, reply) => void reply.code(404).send({ error: { code: 'not_found', message: 'no such route' } }))
  registerHealth(app, deps)
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/v1')) return
    if (!tokenMatches(deps.adminToken, req.headers.authorization)) {
      return reply.code(401).send({ error: { code: 'unauthorized', message: 'missing or invalid admin token' } })
    }
  })
  return app
}
