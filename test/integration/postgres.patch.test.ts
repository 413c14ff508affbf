import { describe, expect, inject, it } from 'vitest'
import { usePgRepro } from '../support/pg-repro.js'

/**
 * elsync carries a patch of postgres.js (patches/postgres+3.4.9.patch, applied by
 * patch-package on `npm ci`): without it a terminated backend under a reserved connection
 * kills the process with an uncaught TypeError, or leaves the next query waiting forever.
 */

// a query that never settles shows as this bound being reached; generous for a loaded machine
const HANG_MS = 20_000
const { prepare, repro } = usePgRepro('pg-terminate-repro.mjs')
type Out = { first: string; second: string; pool: number }
const attempt = (dir: string, url: string) => repro<Out>(dir, url, { hangMs: HANG_MS, crash: /TypeError[^\n]*/ })

describe('postgres.js under a terminated backend', () => {
  const url = inject('pgAdminUrl')

  it('settles every query of a reserved connection with CONNECTION_CLOSED, and the process lives on', async () => {
    const dir = await prepare(true)
    for (let trial = 0; trial < 3; trial++) {
      const result = await attempt(dir, url)
      expect(result).toMatchObject({ ok: true, out: { second: 'CONNECTION_CLOSED', pool: 3 } })
      if (result.ok) expect(['CONNECTION_CLOSED', 'ECONNRESET']).toContain(result.out.first)
    }
  })

  it('crashes or hangs without the patch (the reproduction is real)', async () => {
    const result = await attempt(await prepare(false), url)
    expect(result.ok).toBe(false)
  })
})
