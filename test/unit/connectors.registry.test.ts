import { describe, expect, it } from 'vitest'
import { connectionSchema } from '../../src/config/schema.js'
import { createConnector } from '../../src/connectors/index.js'
import { CONNECTOR_MODULES } from '../../src/connectors/registry.js'
import { UnknownStreamError } from '../../src/engine/errors.js'
import { hasPort, type PortName } from '../../src/engine/ports.js'
import { createLogger, createRedactor } from '../../src/logger.js'

const PORTS: readonly PortName[] = [
  'records',
  'recordDeletes',
  'comments',
  'attachmentReader',
  'attachmentUploader',
  'relations',
  'watchers',
  'fields',
  'lookups',
]
const deps = { logger: createLogger({ level: 'silent' }), redactor: createRedactor([]) }
const connectionOf = (kind: string, extra: Record<string, unknown> = {}) =>
  connectionSchema.parse({ kind, baseUrl: 'https://api.example.com', auth: { mode: 'none' }, ...extra })

describe('the connector registry', () => {
  it('builds every registered kind with the rate budget its module declares, unless the config sets one', () => {
    for (const m of CONNECTOR_MODULES) {
      expect(createConnector('c', connectionOf(m.kind), deps).stats().budgetLeft, m.kind).toBe(m.defaults.perMinute ?? null)
      expect(createConnector('c', connectionOf(m.kind, { rateLimit: { perMinute: 7 } }), deps).stats().budgetLeft, m.kind).toBe(7)
    }
    // Elean documents 60 requests a minute per key
    expect(createConnector('c', connectionOf('elean'), deps).stats().budgetLeft).toBe(60)
  })

  it('implements exactly the role ports its module declares (config validation relies on the declaration)', () => {
    for (const m of CONNECTOR_MODULES) {
      const connector = createConnector('c', connectionOf(m.kind), deps)
      expect(connector.kind).toBe(m.kind)
      const implemented = PORTS.filter((p) => hasPort(connector, p))
      expect([...implemented].sort(), m.kind).toEqual([...m.ports].sort())
    }
  })

  it('reports a stream the connection does not declare as unknown_stream, for every kind', async () => {
    const ctx = { mode: 'full' as const, signal: new AbortController().signal, startedAt: new Date(0), lookbackMs: 0 }
    for (const m of CONNECTOR_MODULES) {
      const connector = createConnector('c', connectionOf(m.kind), deps)
      const read = async () => {
        for await (const _ of connector.read('nope', null, ctx)) return
      }
      await expect(read(), m.kind).rejects.toThrow(UnknownStreamError)
      await expect(read(), m.kind).rejects.toMatchObject({ code: 'unknown_stream', message: 'connection c has no stream "nope"' })
    }
  })
})
