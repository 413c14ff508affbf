import { describe, expect, it } from 'vitest'
import { configDirFromEnv, envSecrets, readEnv } from '../../src/config/env.js'
import { ConfigError } from '../../src/config/errors.js'

describe('readEnv', () => {
  it('applies the documented defaults to an empty environment', () => {
    expect(readEnv({})).toEqual({
      configDir: './mappings',
      adminPort: 8787,
      logLevel: 'info',
      dataDir: './.elsync',
      leaseMs: 30_000,
      startupSettleMs: 2_000,
    })
  })

  it('reads every setting', () => {
    const settings = readEnv({
      DATABASE_URL: 'postgres://u:p@db:5432/elsync',
      TEST_DATABASE_URL: 'postgresql://localhost/test',
      ELSYNC_CONFIG_DIR: '/etc/elsync',
      ELSYNC_ADMIN_TOKEN: 'a'.repeat(32),
      ELSYNC_ADMIN_PORT: '0',
      ELSYNC_ADMIN_HOST: '0.0.0.0',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'json',
      ELSYNC_SECRET_KEY: 'k'.repeat(32),
      ELSYNC_DATA_DIR: '/var/lib/elsync',
      ELSYNC_LEASE_SECONDS: '5',
      ELSYNC_STARTUP_SETTLE_MS: '0',
      UNRELATED: 'ignored',
    })
    expect(settings).toEqual({
      databaseUrl: 'postgres://u:p@db:5432/elsync',
      testDatabaseUrl: 'postgresql://localhost/test',
      configDir: '/etc/elsync',
      adminToken: 'a'.repeat(32),
      adminPort: 0,
      adminHost: '0.0.0.0',
      logLevel: 'debug',
      logFormat: 'json',
      secretKey: 'k'.repeat(32),
      dataDir: '/var/lib/elsync',
      leaseMs: 5_000,
      startupSettleMs: 0,
    })
  })

  it('treats empty variables as unset', () => {
    expect(readEnv({ ELSYNC_ADMIN_PORT: '', LOG_LEVEL: '', DATABASE_URL: '' })).toEqual(readEnv({}))
  })

  it('refuses a bad port and a bad log level with one clear error each', () => {
    const err = (() => {
      try {
        readEnv({ ELSYNC_ADMIN_PORT: '80a', LOG_LEVEL: 'loud' })
      } catch (e) {
        return e
      }
      return undefined
    })()
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).message.split('\n')).toEqual([
      'environment: ELSYNC_ADMIN_PORT: must be a TCP port number between 0 and 65535, got "80a"',
      'environment: LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent',
    ])
  })

  it('refuses a log format other than json or pretty', () => {
    expect(() => readEnv({ LOG_FORMAT: 'text' })).toThrow(
      /^environment: LOG_FORMAT: must be one of json, pretty \(unset: pretty on a terminal, json otherwise\)$/,
    )
  })

  it('refuses a lease shorter than a second or given as anything but whole seconds', () => {
    for (const bad of ['0', '1.5', '3601', 'ten']) expect(() => readEnv({ ELSYNC_LEASE_SECONDS: bad })).toThrow(/ELSYNC_LEASE_SECONDS: must be a whole number/)
    for (const bad of ['-1', '1.5', '60001', 'soon'])
      expect(() => readEnv({ ELSYNC_STARTUP_SETTLE_MS: bad })).toThrow(/ELSYNC_STARTUP_SETTLE_MS: must be a whole number/)
  })

  it('refuses a port above 65535', () => {
    expect(() => readEnv({ ELSYNC_ADMIN_PORT: '70000' })).toThrow(/ELSYNC_ADMIN_PORT: must be a TCP port/)
  })

  it('never echoes a malformed database URL, which may hold a password', () => {
    expect(() => readEnv({ DATABASE_URL: 'mysql://root:hunter2@db' })).toThrow(
      /^environment: DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ connection URL$/,
    )
  })

  it('lists the admin token, the secret key and database passwords as secrets', () => {
    const settings = readEnv({
      DATABASE_URL: 'postgres://u:p%40ss@db/elsync',
      ELSYNC_ADMIN_TOKEN: 'admin-token-0123456789',
      ELSYNC_SECRET_KEY: 'secret-key-0123456789',
    })
    expect(envSecrets(settings).sort()).toEqual(['admin-token-0123456789', 'p%40ss', 'p@ss', 'secret-key-0123456789'])
  })

  it('resolves the config directory even when other variables are invalid', () => {
    expect(configDirFromEnv({ ELSYNC_CONFIG_DIR: '/cfg', ELSYNC_ADMIN_PORT: 'x' })).toBe('/cfg')
    expect(configDirFromEnv({})).toBe('./mappings')
  })
})
