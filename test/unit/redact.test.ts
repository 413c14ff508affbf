import { describe, expect, it } from 'vitest'
import { createRedactor, TRANSIENT_LIMIT } from '../../src/redact.js'

describe('redactor', () => {
  it('scrubs secrets in clear, URL-encoded and base64 form, longest first', () => {
    const r = createRedactor(['p@ss word!', 'p@ss'])
    expect(r.redact('a p@ss word! b p%40ss%20word! c cEBzcyB3b3JkIQ==')).toBe('a [REDACTED] b [REDACTED] c [REDACTED]')
  })

  it('leaves values shorter than four characters alone', () => {
    expect(createRedactor(['abc']).redact('abc abcd')).toBe('abc abcd')
  })

  it('keeps config secrets forever and only the most recent transient tokens', () => {
    const r = createRedactor(['config-secret'])
    for (let i = 0; i <= TRANSIENT_LIMIT; i++) r.add(`token-${i}-xyz`, true)
    expect(r.redact('config-secret token-0-xyz token-1-xyz')).toBe('[REDACTED] token-0-xyz [REDACTED]')
  })
})
