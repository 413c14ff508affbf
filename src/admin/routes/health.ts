import type { FastifyInstance } from 'fastify'
import type { AdminDeps } from '../types.js'

/** `/healthz` (process alive), `/readyz` (database reachable, migrations applied), `/metrics`. */
export function registerHealth(app: FastifyInstance, deps: AdminDeps): void {
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_req, reply) => {
    const ok = await deps.ready().catch(() => false)
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready' })
  })
  app.get('/metrics', async (_req, reply) => reply.type(deps.registry.contentType).send(await deps.registry.metrics()))
}
