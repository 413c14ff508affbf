import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { buildAdminServer } from '../../src/admin/server.js'
import { createDb } from '../../src/db/client.js'
import { migrationReadiness, readJournal } from '../../src/db/migrate.js'
import { createTestDb } from '../support/db.js'
import { captureLogs } from '../support/logs.js'

const db = await createTestDb()
const { logger } = captureLogs()
const admin = (ready: ReturnType<typeof migrationReadiness>) =>
  buildAdminServer({ adminToken: 'a-long-enough-admin-token', registry: new Registry(), logger, ready })

describe('/readyz', () => {
  it('is ready when every migration of the journal is applied', async () => {
    const app = admin(migrationReadiness(db.sql))
    const res = await app.inject({ method: 'GET', url: '/readyz' })
    expect([res.statusCode, res.json()]).toEqual([200, { status: 'ready' }])
    await app.close()
  })

  it('names the migration a database lacks, when the daemon starts on it', async () => {
    const secrets = readJournal().find((m) => m.tag === '0002_connection_secrets')
    expect(secrets).toBeDefined()
    await db.sql`delete from elsync.__migrations where created_at = ${secrets?.when ?? 0}`
    const app = admin(migrationReadiness(db.sql))
    const res = await app.inject({ method: 'GET', url: '/readyz' })
    expect(res.statusCode).toBe(503)
    expect(res.json()).toEqual({ status: 'not ready', reason: 'migrations not applied: 0002_connection_secrets' })
    await app.close()
  })

  it('lists every migration of a database nothing was applied to', async () => {
    await db.sql`drop table elsync.__migrations`
    const app = admin(migrationReadiness(db.sql))
    const res = await app.inject({ method: 'GET', url: '/readyz' })
    expect(res.statusCode).toBe(503)
    expect(res.json().reason).toBe(
      `migrations not applied: ${readJournal()
        .map((m) => m.tag)
        .join(', ')}`,
    )
    await app.close()
  })

  it('is not ready while the database does not answer, without the driver error', async () => {
    const gone = createDb(db.url, { max: 1 })
    await gone.close()
    const app = admin(migrationReadiness(gone.sql))
    const res = await app.inject({ method: 'GET', url: '/readyz' })
    expect([res.statusCode, res.json()]).toEqual([503, { status: 'not ready', reason: 'database unreachable' }])
    await app.close()
  })
})
