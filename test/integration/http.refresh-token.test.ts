import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSimServer, SimHttpError, bearerToken, type SimServer } from '../../src/sim/common/server.js'
import { createHttpClient } from '../../src/http/client.js'
import { createPgTokenVault, createSecretBox } from '../../src/db/vault.store.js'
import { createTestDb } from '../support/db.js'
import { captureLogs } from '../support/logs.js'

const db = await createTestDb()
const KEY = 'a-secret-key-of-sufficient-length'
let server: SimServer
let currentRefresh = 'refresh-token-0-initial'
let rotations = 0
let access = ''

beforeAll(async () => {
  server = await startSimServer({
    name: 'oauth',
    errorBody: (status, message) => ({ error: message, status }),
    routes: [
      {
        method: 'POST',
        pattern: '/token',
        handler: (req) => {
          const form = new URLSearchParams(req.body.toString())
          if (form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== currentRefresh) throw new SimHttpError(400, 'invalid_grant')
          rotations += 1
          currentRefresh = `refresh-token-${rotations}-rotated`
          access = `access-${rotations}-xyz`
          return { status: 200, body: { access_token: access, expires_in: 3600, refresh_token: currentRefresh } }
        },
      },
      {
        method: 'GET',
        pattern: '/api/me',
        handler: (req) =>
          bearerToken(req) === access
            ? { status: 200, body: { me: 'ok' } }
            : (() => {
                throw new SimHttpError(401, 'expired')
              })(),
      },
    ],
  })
})
afterAll(async () => server.close())

const client = (logs = captureLogs()) =>
  createHttpClient(
    {
      name: 'crm',
      baseUrl: `${server.url}/api`,
      auth: { mode: 'oauth2-refresh-token', tokenUrl: `${server.url}/token`, clientId: 'cid', refreshToken: 'refresh-token-0-initial' },
    },
    { logger: logs.logger, redactor: logs.redactor, vault: createPgTokenVault(db.sql, KEY) },
  )

describe('oauth2-refresh-token', () => {
  it('persists the rotated refresh token encrypted and uses it after a restart', async () => {
    const logs = captureLogs()
    await expect(client(logs).request({ path: 'me', route: 'GET /me' })).resolves.toMatchObject({ status: 200 })
    const [row] = await db.sql`select ciphertext from elsync.connection_secrets where connection = 'crm'`
    expect(row?.ciphertext).toMatch(/^v1:/)
    expect(row?.ciphertext).not.toContain('rotated')
    expect(createSecretBox(KEY).open(row?.ciphertext as string)).toBe('refresh-token-1-rotated')
    // a new process (new client) starts from the stored token, not the config's spent one
    await expect(client().request({ path: 'me', route: 'GET /me' })).resolves.toMatchObject({ status: 200 })
    expect(rotations).toBe(2)
    expect(logs.text()).not.toMatch(/refresh-token-\d|access-\d/)
  })

  it('refuses to decrypt with another key, with a message naming the cause', async () => {
    const sealed = createSecretBox(KEY).seal('x')
    expect(() => createSecretBox('another-key-entirely-here').open(sealed)).toThrow(/ELSYNC_SECRET_KEY differs/)
  })
})
