import type { FastifyInstance } from 'fastify'
import type { AdminDeps, Readiness } from '../types.js'

/** `/healthz` (process alive), `/readyz` (database reachable, migrations applied), `/metrics`. */
export function registerHealth(app: FastifyInstance, deps: AdminDeps): void {
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_req, reply) => {
    // the driver's error text may name hosts and users: the probe only says which check failed
    const check = await deps.ready().catch((): Readiness => ({ ready: false, reason: 'database unreachable' }))
    if (check.ready) return reply.code(200).send({ status: 'ready' })
    return reply.code(503).send({ status: 'not ready', reason: check.reason ?? 'not ready' })
  })
  app.get('/metrics', async (_req, reply) => reply.type(deps.registry.contentType).send(await deps.registry.metrics()))
}
