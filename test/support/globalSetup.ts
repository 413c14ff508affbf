import postgres from 'postgres'
import type { TestProject } from 'vitest/node'
import { runMigrations } from '../../src/db/migrate.js'
import { resolveTestPostgres, withDatabase } from './postgres.js'

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
  const admin = postgres(pg.adminUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database "${template}"`)
  await runMigrations(withDatabase(pg.adminUrl, template))
  project.provide('pgAdminUrl', pg.adminUrl)
  project.provide('pgTemplate', template)
  console.log(`[test postgres] ${pg.how}, template ${template} migrated in ${Date.now() - started} ms`)
  return async () => {
    await admin.unsafe(`drop database if exists "${template}" with (force)`).catch(() => {})
    await admin.end({ timeout: 5 })
    await pg.stop()
  }
}
