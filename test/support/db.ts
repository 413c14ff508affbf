import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { afterAll, inject } from 'vitest'
import { createDb, type DbHandle } from '../../src/db/client.js'
import { withDatabase } from './postgres.js'

export interface TestDb extends DbHandle {
  url: string
  name: string
}

/**
 * A database of this test file's own, cloned from the migrated template, dropped
 * after the file's tests. Call once at the top level of an integration test file.
 */
export async function createTestDb(): Promise<TestDb> {
  const adminUrl = inject('pgAdminUrl')
  const template = inject('pgTemplate')
  const name = `elsync_t_${randomBytes(5).toString('hex')}`
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database "${name}" template "${template}"`)
  await admin.end()
  const url = withDatabase(adminUrl, name)
  const handle = createDb(url, { max: 4, applicationName: 'elsync-test' })
  afterAll(async () => {
    await handle.close()
    const a = postgres(adminUrl, { max: 1, onnotice: () => {} })
    await a.unsafe(`drop database if exists "${name}" with (force)`)
    await a.end()
  })
  return { ...handle, url, name }
}
