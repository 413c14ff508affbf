import type { TestProject } from 'vitest/node'
import { runMigrations } from '../../src/db/migrate.js'
import { createDatabase, dropDatabase } from '../../src/db/admin.js'
import { resolveTestPostgres } from './postgres.js'

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string
    pgTemplate: string
  }
}

/** Migrates one template database; each test file clones it (see db.ts). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now()
  const pg = await resolveTestPostgres()
  const template = `elsync_tpl_${process.pid}_${Date.now().toString(36)}`
  await runMigrations(await createDatabase(pg.adminUrl, template))
  project.provide('pgAdminUrl', pg.adminUrl)
  project.provide('pgTemplate', template)
  console.log(`[test postgres] ${pg.how}, template ${template} migrated in ${Date.now() - started} ms`)
  return async () => {
    await dropDatabase(pg.adminUrl, template).catch(() => {})
    await pg.stop()
  }
}
