import { describe, expect, inject, it } from 'vitest'
import { usePgRepro } from '../support/pg-repro.js'

/**
 * patches/postgres+3.4.9.patch also covers porsager/postgres#1192 and #1223: a backend
 * terminated while a new connection fetches its array types. Unpatched, the first query after
 * the reconnect fails with the dead backend's 57P01 and the same error escapes as an unhandled
 * rejection, which kills the process (a kill sweep of `elsync sync` that terminated its
 * connections at start-up hit it about once in 30 trials). The reproduction's proxy holds the
 * array-type query and terminates its backend first.
 */

const { prepare, repro } = usePgRepro('pg-startup-repro.mjs')
type Out = { first: string; second: string }
const attempt = (dir: string, url: string) => repro<Out>(dir, url, { hangMs: 20_000, crash: /(PostgresError|TypeError)[^\n]*/ })

describe('postgres.js when a connection is terminated during its start-up', () => {
  const url = inject('pgAdminUrl')

  it('reconnects and answers the first query, and the process lives on', async () => {
    expect(await attempt(await prepare(true), url)).toEqual({ ok: true, out: { first: 'ok 1', second: 'ok 2' } })
  })

  it('replays the dead backend’s error or dies without the patch (the reproduction is real)', async () => {
    const result = await attempt(await prepare(false), url)
    expect(result).not.toEqual({ ok: true, out: { first: 'ok 1', second: 'ok 2' } })
  })
})
