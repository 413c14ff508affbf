import { randomBytes } from 'node:crypto'
import { afterAll, inject } from 'vitest'
import { createDb, type DbHandle } from '../../src/db/client.js'
import { createDatabase, dropDatabase } from '../../src/db/admin.js'

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
  const url = await createDatabase(adminUrl, name, { template })
  const handle = createDb(url, { max: 4, applicationName: 'elsync-test' })
  afterAll(async () => {
    await handle.close()
    await dropDatabase(adminUrl, name)
  })
  return { ...handle, url, name }
}
