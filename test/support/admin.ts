import { readFile } from 'node:fs/promises'
import { Registry } from 'prom-client'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import type { JSONSchema } from 'zod/v4/core'
import { createAdminApi } from '../../src/admin.ports.js'
import { buildAdminServer } from '../../src/admin/server.js'
import { type App, createApp } from '../../src/app.js'
import type { EnvSettings } from '../../src/config/env.js'
import { type Config, mappingFileSchema } from '../../src/config/schema.js'
import { createPgResyncQueue } from '../../src/db/resync.store.js'
import { createResyncWorker, type ResyncWorker } from '../../src/resync.js'
import { type StartedElean, startElean } from '../../src/sim/elean/index.js'
import { type StartedElementum, startElementum } from '../../src/sim/elementum/index.js'
import { seedNamespace } from '../../src/sim/elementum/seed.js'
import type { TestDb } from './db.js'
import { type CapturedLogs, captureLogs } from './logs.js'
import { simConnections } from './sim.config.js'

export const ADMIN_TOKEN = 'admin-token-for-the-tests-0123456789'

/**
 * The admin server as the daemon builds it, over an Elementum and an Elean simulator and the
 * example mapping (its `conflict` policy given), for `app.inject()`. The resync worker runs
 * when `worker` is set. `answers` keeps every body the server sent, for the secrets test.
 */
export interface AdminHarness {
  elementum: StartedElementum
  elean: StartedElean
  app: App
  logs: CapturedLogs
  server: ReturnType<typeof buildAdminServer>
  worker: ResyncWorker | null
  secrets: string[]
  answers: string[]
  /** Every answer of a route, with its route as registered (`/v1/runs/:id`), for checks against `/openapi.json`. */
  exchanges: Exchange[]
  call(method: 'GET' | 'POST', url: string, opts?: CallOptions): Promise<{ status: number; body: any }>
  /** poll both streams, reconcile, push. */
  cycle(): Promise<void>
  /** Another replica's resync worker on the same database (its own app and leases), until close. */
  startReplica(): void
  close(): Promise<void>
}

export interface Exchange {
  method: string
  route: string
  status: number
  body: string
}

export interface CallOptions {
  body?: unknown
  /** Sent as is, as application/json. */
  raw?: string
  /** null: no Authorization header. */
  token?: string | null
  contentType?: string
}

export async function startAdminHarness(db: TestDb, opts: { conflict: 'manual' | 'newest'; worker: boolean }): Promise<AdminHarness> {
  const elementum = await startElementum({ port: 0, seed: 5 })
  const elean = await startElean({ port: 0, seed: 5, perMinute: 0 })
  seedNamespace(elementum.store, 'tasks', 'it-requests', 4, 5)
  elean.store.seed('web', 3, 5)
  const secrets = [elean.credentials.apiKey ?? '', elementum.credentials.clientSecret ?? '', ADMIN_TOKEN]
  const logs = captureLogs(secrets)
  const connections = simConnections({ elementum, elean })
  const example = parseYaml(await readFile('mappings/it-requests.mapping.yaml', 'utf8')) as Record<string, unknown>
  const mapping = mappingFileSchema.parse({ ...example, conflict: opts.conflict, comments: 'none', attachments: 'none' })
  const config: Config = { dir: '.', connections, mappings: [mapping] }
  const env: EnvSettings = { databaseUrl: db.url, configDir: '.', adminPort: 0, logLevel: 'debug', dataDir: '.elsync' }
  const ctx = { env, config, logger: logs.logger, redactor: logs.redactor }
  const app = createApp(ctx, { db })
  const controller = new AbortController()
  const queue = createPgResyncQueue(db.sql)
  const worker = opts.worker ? createResyncWorker({ app, queue, logger: logs.logger, intervalMs: 100 }) : null
  const running = [worker?.run(controller.signal)]
  const api = createAdminApi({ sql: db.sql, config, app, resyncQueue: queue, onResyncQueued: () => worker?.notify(), signal: controller.signal })
  const server = buildAdminServer({
    adminToken: ADMIN_TOKEN,
    registry: new Registry(),
    logger: logs.logger,
    ready: async () => ({ ready: true }),
    api,
    redact: logs.redactor.redact,
  })
  const answers: string[] = []
  const exchanges: Exchange[] = []
  server.addHook('onSend', async (req, reply, payload) => {
    const route = req.routeOptions.url
    if (route !== undefined && typeof payload === 'string') exchanges.push({ method: req.method, route, status: reply.statusCode, body: payload })
    return payload
  })

  return {
    elementum,
    elean,
    app,
    logs,
    server,
    worker,
    secrets,
    answers,
    exchanges,
    async call(method, url, o = {}) {
      const payload = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body))
      const res = await server.inject({
        method,
        url,
        headers: {
          ...(o.token === null ? {} : { authorization: `Bearer ${o.token ?? ADMIN_TOKEN}` }),
          ...(payload !== undefined ? { 'content-type': o.contentType ?? 'application/json' } : {}),
        },
        ...(payload !== undefined ? { payload } : {}),
      })
      answers.push(res.body)
      let body: unknown = res.body
      try {
        body = res.json()
      } catch {}
      return { status: res.statusCode, body }
    },
    startReplica() {
      const replica = createResyncWorker({ app: createApp(ctx, { db }), queue, logger: logs.logger, intervalMs: 100 })
      running.push(replica.run(controller.signal))
    },
    async cycle() {
      const signal = AbortSignal.timeout(60_000)
      await app.pollPass({ mode: 'incremental', signal })
      await app.reconcilePass({ signal })
      await app.executor.drain(signal)
    },
    async close() {
      controller.abort()
      await Promise.all(running)
      await server.close()
      await Promise.all([elementum.close(), elean.close()])
    },
  }
}

interface OpenApiOperation {
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>
}
/** `/openapi.json`'s operations, keyed `GET /v1/runs/:id` as fastify names routes. */
export async function openApiOperations(h: AdminHarness): Promise<Map<string, OpenApiOperation>> {
  const doc = (await h.server.inject({ url: '/openapi.json' })).json() as { paths: Record<string, Record<string, OpenApiOperation>> }
  const out = new Map<string, OpenApiOperation>()
  for (const [path, methods] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(methods)) out.set(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`, op)
  return out
}

/** The JSON schema an operation declares for a status, as zod (the document is OpenAPI 3.0); undefined when it declares none. */
export function declaredSchema(op: OpenApiOperation, status: number): z.ZodType | undefined {
  const schema = op.responses[String(status)]?.content?.['application/json']?.schema
  return schema === undefined ? undefined : z.fromJSONSchema(schema as JSONSchema.JSONSchema, { defaultTarget: 'openapi-3.0' })
}

/**
 * Every answer a `/v1` route gave that its OpenAPI description does not allow: a status it
 * does not declare, or a body its schema for that status refuses. Empty when the document is true.
 */
export async function undeclaredAnswers(h: AdminHarness): Promise<string[]> {
  const ops = await openApiOperations(h)
  const out: string[] = []
  for (const x of h.exchanges) {
    const op = ops.get(`${x.method} ${x.route}`)
    if (!op) continue
    const schema = declaredSchema(op, x.status)
    if (!schema) {
      out.push(`${x.method} ${x.route} answered ${x.status}, which it does not declare: ${x.body.slice(0, 200)}`)
      continue
    }
    const r = schema.safeParse(JSON.parse(x.body))
    if (!r.success) out.push(`${x.method} ${x.route} ${x.status}: ${r.error.message} in ${x.body.slice(0, 300)}`)
  }
  return out
}
