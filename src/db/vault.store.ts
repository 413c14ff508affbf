import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto'
import type { TokenVault } from '../http/types.js'
import type { Sql } from './client.js'

/**
 * Rotated refresh tokens at rest: AES-256-GCM with a key derived from ELSYNC_SECRET_KEY
 * (scrypt, fixed salt: the key must derive identically on every replica). Stored as
 * `v1:<iv>:<tag>:<ciphertext>` in base64url, keyed by connection name.
 */
const SALT = 'elsync.connection_secrets.v1'

export function createSecretBox(secretKey: string) {
  const key = scryptSync(secretKey, SALT, 32)
  return {
    seal(plain: string): string {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
      return ['v1', iv, cipher.getAuthTag(), data].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join(':')
    },
    open(sealed: string): string {
      const [v, iv, tag, data] = sealed.split(':')
      if (v !== 'v1' || !iv || !tag || data === undefined) throw new Error('stored secret has an unknown format')
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
      decipher.setAuthTag(Buffer.from(tag, 'base64url'))
      try {
        return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8')
      } catch {
        throw new Error('cannot decrypt a stored refresh token: ELSYNC_SECRET_KEY differs from the one that encrypted it')
      }
    },
  }
}

export function createPgTokenVault(sql: Sql, secretKey: string): TokenVault {
  const box = createSecretBox(secretKey)
  return {
    async load(connection) {
      const [row] = await sql<{ ciphertext: string }[]>`select ciphertext from elsync.connection_secrets where connection = ${connection}`
      return row ? box.open(row.ciphertext) : null
    },
    async save(connection, refreshToken) {
      await sql`insert into elsync.connection_secrets (connection, ciphertext) values (${connection}, ${box.seal(refreshToken)})
        on conflict (connection) do update set ciphertext = excluded.ciphertext, updated_at = now()`
    },
  }
}
