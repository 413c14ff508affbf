import postgres from 'postgres'
import { withDatabase } from './client.js'

/**
 * Creating and dropping whole databases on a server, on a short-lived connection of its
 * own (CREATE/DROP DATABASE cannot run inside a pool's transaction). Used by the demo's
 * throw-away mirror, the test harness and the benchmark. Names are ours, never input.
 */
async function onServer<T>(serverUrl: string, fn: (admin: postgres.Sql) => Promise<T>): Promise<T> {
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} })
  try {
    return await fn(admin)
  } finally {
    await admin.end({ timeout: 5 })
  }
}

/** Creates `name` (optionally as a copy of `template`, or replacing an existing one) and returns its URL. */
export async function createDatabase(serverUrl: string, name: string, opts: { template?: string; replace?: boolean } = {}): Promise<string> {
  await onServer(serverUrl, async (admin) => {
    if (opts.replace) await admin.unsafe(`drop database if exists "${name}" with (force)`)
    await admin.unsafe(`create database "${name}"${opts.template ? ` template "${opts.template}"` : ''}`)
  })
  return withDatabase(serverUrl, name)
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await onServer(serverUrl, (admin) => admin.unsafe(`drop database if exists "${name}" with (force)`))
}
