import { afterAll, describe, expect, it } from 'vitest'
import { createPrng, type Prng } from '../../src/sim/common/prng.js'
import { startAdminHarness, undeclaredAnswers } from '../support/admin.js'
import { createTestDb } from '../support/db.js'

/**
 * A seeded fuzz of the admin API: a few hundred random bodies, query strings and path ids to
 * every route. Whatever arrives, the answer is never a 5xx, and every error is `{error: {code, message}}`.
 */
const db = await createTestDb()
const h = await startAdminHarness(db, { conflict: 'manual', worker: false })
afterAll(() => h.close())

const SEED = 20_241_104
const KEYS = ['connection', 'stream', 'mode', 'since', 'winner', 'state', 'limit', 'mapping', 'id', '__proto__', 'constructor', '', ' ', 'a.b']
const NAMES = ['elean', 'elementum', 'web', 'it-requests', 'incremental', 'full', 'left', 'right', 'dead', 'pending', 'open', 'constructor', 'toString']

function text(p: Prng): string {
  switch (p.int(0, 7)) {
    case 0:
      return p.pick(NAMES)
    case 1:
      return ''
    case 2:
      return 'x'.repeat(p.int(190, 210))
    case 3:
      return '\u0000\u202e<script>'
    case 4:
      return new Date(p.int(-10, 2 ** 42)).toISOString()
    case 5:
      return `${p.int(-5, 99_999)}`
    case 6:
      return String.fromCodePoint(...Array.from({ length: p.int(1, 12) }, () => p.int(1, 0x10ffff)).filter((c) => c < 0xd800 || c > 0xdfff))
    default:
      return p.hex(p.int(1, 40))
  }
}

function value(p: Prng, depth = 0): unknown {
  switch (p.int(0, depth > 2 ? 4 : 7)) {
    case 0:
      return text(p)
    case 1:
      return p.pick([0, -1, 1.5, 2 ** 53, -(2 ** 63), Number.MAX_VALUE])
    case 2:
      return p.pick([true, false])
    case 3:
      return null
    case 4:
      return p.pick(NAMES)
    case 5:
      return Array.from({ length: p.int(0, 4) }, () => value(p, depth + 1))
    default:
      return object(p, depth + 1)
  }
}

function object(p: Prng, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (let i = p.int(0, 4); i > 0; i--) out[p.next() < 0.7 ? p.pick(KEYS) : text(p)] = value(p, depth)
  return out
}

/** A body as sent: JSON of a random value, broken JSON, or bytes that are no JSON at all. */
function body(p: Prng): { raw?: string; contentType?: string } {
  switch (p.int(0, 9)) {
    case 0:
      return {}
    case 1:
      return { raw: JSON.stringify(object(p)).slice(0, p.int(0, 30)) }
    case 2:
      return { raw: text(p) }
    case 3:
      return {
        raw: JSON.stringify(object(p)),
        contentType: p.pick(['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'multipart/form-data']),
      }
    case 4:
      return { raw: JSON.stringify(value(p)) }
    default:
      return { raw: JSON.stringify(object(p)) }
  }
}

function query(p: Prng): string {
  const pairs = Array.from({ length: p.int(0, 4) }, () => {
    const k = p.next() < 0.8 ? p.pick(KEYS) : text(p)
    const v = p.next() < 0.5 ? p.pick(NAMES) : text(p)
    return p.next() < 0.9 ? `${encodeURIComponent(k)}=${encodeURIComponent(v)}` : `${k}=${v}`.replace(/[#\s]/g, '')
  })
  return pairs.length ? `?${pairs.join('&')}` : ''
}

function id(p: Prng): string {
  return p.pick(['1', '0', '-1', 'abc', '1e3', '9'.repeat(30), '%00', '..%2F..', encodeURIComponent(text(p)) || 'x', String(p.int(1, 50))])
}

const ROUTES: ((p: Prng) => ['GET' | 'POST', string])[] = [
  (p) => ['GET', `/v1/streams${query(p)}`],
  (p) => ['POST', `/v1/resync${query(p)}`],
  (p) => ['GET', `/v1/runs${query(p)}`],
  (p) => ['GET', `/v1/runs/${id(p)}${query(p)}`],
  (p) => ['GET', `/v1/outbox${query(p)}`],
  (p) => ['POST', `/v1/outbox/${id(p)}/retry`],
  (p) => ['GET', `/v1/conflicts${query(p)}`],
  (p) => ['POST', `/v1/conflicts/${id(p)}/resolve`],
  (p) => ['POST', `/v1/mappings/${p.next() < 0.5 ? 'it-requests' : id(p)}/${p.pick(['pause', 'resume'])}`],
  (p) => ['GET', `/v1/mappings/${p.next() < 0.5 ? 'it-requests' : id(p)}/plan${query(p)}`],
]

describe('the admin API under fuzzing', () => {
  it('never answers 5xx to random bodies, query strings and ids, on any route', { timeout: 120_000 }, async () => {
    await h.cycle()
    const p = createPrng(SEED)
    const statuses = new Map<number, number>()
    for (let i = 0; i < 400; i++) {
      const [method, url] = (ROUTES[i % ROUTES.length] as (typeof ROUTES)[number])(p)
      const b = method === 'POST' ? body(p) : {}
      const r = await h.call(method, url, b)
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1)
      const what = `#${i} ${method} ${url} ${b.raw ?? ''} → ${r.status} ${JSON.stringify(r.body)}`
      expect(r.status, what).toBeLessThan(500)
      if (r.status >= 400) expect(r.body, what).toEqual({ error: { code: expect.stringMatching(/^[a-z_]+$/), message: expect.any(String) } })
    }
    // the fuzz reached past validation too, not only 400s
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([200, 400, 404]))
    // and each answer is one /openapi.json declares for its route and status
    expect(await undeclaredAnswers(h)).toEqual([])
  })
})
