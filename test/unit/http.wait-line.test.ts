import { describe, expect, it } from 'vitest'
import type { WaitEvent } from '../../src/http/types.js'
import { waitLine } from '../../src/http/wait-line.js'

const event = (over: Partial<WaitEvent>): WaitEvent => ({
  connection: 'elean',
  route: 'GET /{project}/tasks',
  reason: 'retry',
  waitMs: 4_000,
  attempt: 3,
  of: 6,
  code: 'ECONNREFUSED',
  ...over,
})

describe('wait line', () => {
  it('names a rate limit and the seconds the server asked for', () => {
    expect(waitLine(event({ reason: 'retry-after', waitMs: 43_000, code: 'HTTP 429', status: 429 }))).toBe('elean: rate limit, waiting 43 s (Retry-After)')
  })

  it('names the status of any other Retry-After', () => {
    expect(waitLine(event({ reason: 'retry-after', waitMs: 10_000, code: 'HTTP 503', status: 503 }))).toBe('elean: HTTP 503, waiting 10 s (Retry-After)')
  })

  it('names the failed attempt, its bound, the failure and the backoff', () => {
    expect(waitLine(event({}))).toBe('elean: attempt 3/6 failed: ECONNREFUSED, retrying in 4 s')
    expect(waitLine(event({ attempt: 1, code: 'HTTP 500', status: 500, waitMs: 2_600 }))).toBe('elean: attempt 1/6 failed: HTTP 500, retrying in 3 s')
  })

  it('stays quiet for waits of 2 s or less', () => {
    expect(waitLine(event({ waitMs: 2_000 }))).toBeNull()
    expect(waitLine(event({ reason: 'retry-after', waitMs: 1_000, status: 429 }))).toBeNull()
  })
})
