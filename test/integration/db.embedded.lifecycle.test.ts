/**
 * The embedded postmaster must not outlive an elsync process killed by a signal it does not
 * handle (`elsync sync` under `timeout`, say): an orphan keeps its lock file and the next start fails.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'

const embedded = resolve(import.meta.dirname, '../../src/db/embedded.ts')

function alive(pid: number): boolean {
  try {
    // a zombie (exited, not yet reaped by an init that may never do so) has stopped
    if (/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) return false
  } catch {
    // no /proc: signal 0 decides
  }
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function until<T>(what: string, probe: () => T | undefined, withinMs: number): Promise<T> {
  const deadline = Date.now() + withinMs
  for (;;) {
    const value = probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

describe('embedded Postgres lifecycle', () => {
  const dirs: string[] = []
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })

  it('stops the postmaster when the process is killed by a signal it does not handle, and still dies of that signal', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'elsync-signal-'))
    dirs.push(dataDir)
    await chmod(dataDir, 0o755) // as root, the data then stays here rather than moving where the postgres user can reach it
    const script = `
      const { startEmbeddedPostgres } = await import(${JSON.stringify(embedded)})
      const pg = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, port: 0 })
      console.log('READY ' + pg.databaseDir)
      setInterval(() => {}, 1000)
    `
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      out += chunk.toString()
    })
    const ended = new Promise<NodeJS.Signals | number | null>((res) => child.once('exit', (code, signal) => res(signal ?? code)))
    const databaseDir = await until('the READY line', () => /READY (\S+)/.exec(out)?.[1], 90_000)
    dirs.push(databaseDir)
    const postmaster = Number(readFileSync(join(databaseDir, 'postmaster.pid'), 'utf8').split('\n')[0])
    expect(alive(postmaster)).toBe(true)

    child.kill('SIGTERM')
    expect(await ended).toBe('SIGTERM')
    await until('the postmaster to exit', () => (alive(postmaster) ? undefined : true), 30_000)
  })
})
