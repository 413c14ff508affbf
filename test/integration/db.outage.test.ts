import { afterAll, describe, expect, inject, it } from 'vitest'
import { createDatabase, dropDatabase } from '../../src/db/admin.js'
import { openDatabase } from '../../src/db/open.js'
import { startPgProxy } from '../support/pg-proxy.js'

const adminUrl = inject('pgAdminUrl')
const name = `elsync_t_outage_${process.pid}`
const url = await createDatabase(adminUrl, name)
afterAll(async () => {
  await dropDatabase(adminUrl, name)
})

describe('a database that is not there yet', () => {
  it('is waited for at start-up with a line saying so, then migrated', async () => {
    const proxy = await startPgProxy(url, { startDown: true })
    const lines: string[] = []
    let up = false
    const opening = openDatabase({
      databaseUrl: proxy.url,
      dataDir: '/nonexistent',
      waitMs: 60_000,
      onProgress: (l) => {
        lines.push(l)
        // the database comes up after elsync said it is waiting
        if (!up && /not reachable/.test(l)) {
          up = true
          void proxy.up()
        }
      },
    })
    const db = await opening
    try {
      expect(lines.find((l) => /not reachable/.test(l))).toMatch(
        /database at postgres:\/\/.*:\d+\/elsync_t_outage_\d+ not reachable \(ECONNREFUSED\); retrying for up to 60 s/,
      )
      const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from elsync.__migrations`
      expect(row?.n).toBeGreaterThan(0)
    } finally {
      await db.close()
      await proxy.close()
    }
  })

  it('gives up after the bound with one error naming the database', async () => {
    const proxy = await startPgProxy(url, { startDown: true })
    const err = await openDatabase({ databaseUrl: proxy.url, dataDir: '/nonexistent', waitMs: 300 }).catch((e: unknown) => e)
    await proxy.close()
    expect(String(err)).toMatch(/cannot migrate the database at postgres:\/\/.*: connecting to .* failed: the database stayed unreachable/)
  })
})
