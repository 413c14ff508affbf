/**
 * The documentation runs: every fenced block of README.md and docs/*.md is executed, so an
 * example that stops working fails the build.
 *
 * - ```sql — run against a mirror filled the way a user's would be: the four simulators with
 *   the sample data of `elsync sim` (seed 1), one `elsync sync` over the example config in
 *   ./mappings, some human edits, and a second sync in which one stream fails. A line
 *   `-- returns: a, b` states the result's columns; in docs/analyst-guide.md every query
 *   states them and must return rows (unless it says `-- may return no rows`).
 * - ```sh — curls against simulators of their own (same seed and sample data); the docs use
 *   the fixed ports 4101–4104 of `elsync sim`, rewritten here to the ports the test got (and
 *   the admin server's 8787 to that of an `elsync run` over the example config started here,
 *   whose token the examples find in `$ELSYNC_ADMIN_TOKEN`). Only curl lines run,
 *   with nothing but curl and a few text tools on the PATH. Every curl fails on an HTTP
 *   error unless it prints the status itself (`-w`).
 * - ```yaml — a `connections:` document is loaded as connections.yaml; a mapping (`id:`) is
 *   loaded with the last connections document above it in the same file.
 * - An info string's `no-test` (```sh no-test) skips a block: commands such as `npm ci`.
 */
import { execFile, spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { exampleConfigEnv, seedAll } from '../../src/cli/sim.js'
import { loadConfig } from '../../src/config/index.js'
import { startAllSims, type AllSims } from '../../src/sim/index.js'
import { createTestDb } from '../support/db.js'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '..', '..')
const SAMPLE_RECORDS = 50
const GUIDE = 'docs/analyst-guide.md'

interface Block {
  file: string
  line: number
  lang: string
  flags: string[]
  text: string
}

function fencedBlocks(file: string, markdown: string): Block[] {
  const out: Block[] = []
  const lines = markdown.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = /^ {0,3}```(\S*)\s*(.*)$/.exec(lines[i] ?? '')
    if (!open) continue
    const start = i
    const body: string[] = []
    while (++i < lines.length && !/^ {0,3}```\s*$/.test(lines[i] ?? '')) body.push(lines[i] ?? '')
    out.push({ file, line: start + 1, lang: open[1] ?? '', flags: (open[2] ?? '').split(/\s+/).filter(Boolean), text: body.join('\n') })
  }
  return out
}

const files = ['README.md', ...(await readdir(join(ROOT, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]
const blocks = (await Promise.all(files.map(async (f) => fencedBlocks(f, await readFile(join(ROOT, f), 'utf8'))))).flat()
const tested = blocks.filter((b) => !b.flags.includes('no-test'))
const named = (b: Block) => `${b.file}:${b.line}`
const ofLang = (...langs: string[]) => tested.filter((b) => langs.includes(b.lang))

/**
 * A shell example may only run curl, alone or as `NAME=$(curl ...)`, so that no example
 * (`npm ci`, `npm run demo`) can ever run from the test. Comments and blank lines are fine.
 */
const CURL_LINE = /^\s*(?:[A-Z_][A-Z0-9_]*=\$\()?curl\s/
const nonCurlLines = (b: Block) => b.text.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#') && !CURL_LINE.test(l))
const shellBlocks = ofLang('sh', 'bash', 'shell')

const closers: (() => Promise<unknown>)[] = []
afterAll(async () => Promise.all(closers.map((c) => c())))

async function sampleSims(): Promise<AllSims> {
  const sims = await startAllSims({ seed: 1 })
  closers.push(() => Promise.all(sims.map((s) => s.close())))
  seedAll(sims, SAMPLE_RECORDS, 1)
  return sims
}

describe('the documentation', () => {
  it('has the examples this test expects (a guard against a parser that finds nothing)', () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', GUIDE, 'docs/simulators.md', 'docs/configuration.md']))
    expect(ofLang('sql').filter((b) => b.file === GUIDE).length).toBeGreaterThanOrEqual(10)
    expect(ofLang('sh').length).toBeGreaterThanOrEqual(10)
    for (const b of blocks) expect(b.lang, `${named(b)}: a fenced block names its language`).not.toBe('')
  })

  it('has only curls in shell blocks; anything else is marked no-test', () => {
    for (const b of shellBlocks) expect(nonCurlLines(b), `${named(b)} runs more than curl: mark it no-test`).toEqual([])
  })
})

const db = await createTestDb()

describe('SQL in the docs, against a mirror of the simulators', async () => {
  const sims = await sampleSims()
  const [elementum, elean, , elasticio] = sims
  const env = { ...process.env, ...exampleConfigEnv(sims), DATABASE_URL: db.url, ELSYNC_CONFIG_DIR: join(ROOT, 'mappings'), LOG_LEVEL: 'warn' }
  const sync = async () =>
    run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'sync'], { cwd: ROOT, env, timeout: 120_000 }).then(
      () => 0,
      (err: { code?: number; stdout?: string; stderr?: string }) => {
        if (err.code !== 1) throw new Error(`elsync sync failed: ${err.stdout}\n${err.stderr}`)
        return 1
      },
    )
  const post = async (url: string, body: unknown) => {
    const res = await fetch(url, { method: 'POST', body: JSON.stringify(body) })
    if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`)
  }
  expect(await sync()).toBe(0)
  // people at work between two polls: status changes, a comment, an edit
  for (const [id, status] of [
    ['TSK-1', 'In Progress'],
    ['TSK-2', 'Closed'],
    ['TSK-3', 'In Progress'],
  ]) {
    await post(`${elementum.server.url}/_sim/records/tasks/it-requests/${id}/edit`, { Status: status })
  }
  await post(`${elementum.server.url}/_sim/records/tasks/it-requests/TSK-1/comments`, { contents: 'Started on this.' })
  await post(`${elean.server.url}/_sim/tasks/web/WEB-1/edit`, { priority: 'urgent' })
  // one stream fails on the second poll (501 is not retried)
  await post(`${elasticio.server.url}/_sim/faults`, { kind: 'status', status: 501, count: 1000, route: '/v2/credentials' })
  expect(await sync()).toBe(1)
  await fetch(`${elasticio.server.url}/_sim/faults`, { method: 'DELETE' })

  it.each(ofLang('sql').map((b) => [named(b), b] as const))('%s', async (_name, b) => {
    const result = await db.sql.unsafe(b.text)
    const claimed = /^\s*--\s*returns:\s*(.+)$/m.exec(b.text)?.[1]
    if (b.file === GUIDE) expect(claimed, 'a guide query says which columns it returns (-- returns: a, b)').toBeDefined()
    if (claimed) expect(result.columns.map((c) => c.name)).toEqual(claimed.split(',').map((c) => c.trim()))
    if (b.file === GUIDE && !/--\s*may return no rows/.test(b.text)) expect(result.length, 'rows on the sample mirror').toBeGreaterThan(0)
  })

  it('mirrors the sample children: comments from both task systems, attachments and related items', async () => {
    const counts = await db.sql`
      select (select count(distinct connection) from elsync.comments)::int as comment_systems,
             (select count(*) from elsync.attachments)::int as attachments,
             (select count(*) from elsync.related_items)::int as related`
    expect(counts[0]).toMatchObject({ comment_systems: 2, attachments: expect.any(Number), related: expect.any(Number) })
    expect(counts[0]?.attachments).toBeGreaterThan(0)
    expect(counts[0]?.related).toBeGreaterThan(0)
  })
})

const ADMIN_TOKEN = 'the-docs-admin-token-0123456789'

/**
 * `elsync run` over the example config pointed at `sims`, on a database of its own, for the admin
 * API's examples; resolves to its port. The example mapping creates nothing here, so that the
 * daemon writes nothing to the simulators that the other examples read (Elean's 60/min key).
 */
async function startDaemon(sims: AllSims): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'elsync-docs-run-'))
  await writeFile(join(dir, 'connections.yaml'), await readFile(join(ROOT, 'mappings', 'connections.yaml'), 'utf8'))
  const mapping = await readFile(join(ROOT, 'mappings', 'it-requests.mapping.yaml'), 'utf8')
  await writeFile(join(dir, 'it-requests.mapping.yaml'), mapping.replace(/^create: .*$/m, 'create: none'))
  const env = {
    ...process.env,
    ...exampleConfigEnv(sims),
    DATABASE_URL: (await createTestDb()).url,
    ELSYNC_CONFIG_DIR: dir,
    ELSYNC_ADMIN_PORT: '0',
    ELSYNC_ADMIN_TOKEN: ADMIN_TOKEN,
    LOG_LEVEL: 'warn',
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'run'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  closers.push(async () => {
    child.kill('SIGTERM')
    await exited
  })
  let out = ''
  return new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const m = /admin API: http:\/\/[^\s:]+:(\d+)/.exec(out)
      if (m) resolve(Number(m[1]))
    })
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()))
    void exited.then((code) => reject(new Error(`elsync run exited (${String(code)}) before serving: ${out}`)))
  })
}

describe('curls in the docs, against the simulators on the documented ports', async () => {
  const sims = await sampleSims()
  const port: Record<string, number> = Object.fromEntries(sims.map((s, i) => [String(4101 + i), s.server.port]))
  port['8787'] = await startDaemon(sims)
  // the examples see curl and the text tools they pipe into, nothing else, and run in a scratch directory
  const sandbox = await mkdtemp(join(tmpdir(), 'elsync-docs-sh-'))
  for (const tool of ['curl', 'sed', 'grep', 'head', 'cut']) {
    const { stdout } = await run('bash', ['-c', `command -v ${tool}`])
    await symlink(stdout.trim(), join(sandbox, tool))
  }
  // fail on an HTTP error, unless the example prints the status itself
  const prelude = `set -euo pipefail
curl() { case " $* " in *" -w "*|*" --write-out "*) command curl "$@" ;; *) command curl --fail-with-body "$@" ;; esac; }
`
  it.each(shellBlocks.filter((b) => nonCurlLines(b).length === 0).map((b) => [named(b), b] as const))('%s', async (_name, b) => {
    // Elean allows 60 requests a minute per key: start each example with a fresh minute
    sims[1].server.clock.advance(61_000)
    const script = b.text.replace(/\b(127\.0\.0\.1|localhost):(410[1-4]|8787)\b/g, (_m, host: string, p: string) => `${host}:${port[p]}`)
    const r = await run('/bin/bash', ['-c', prelude + script], {
      cwd: sandbox,
      env: { PATH: sandbox, ELSYNC_ADMIN_TOKEN: ADMIN_TOKEN },
      timeout: 30_000,
    }).catch((err: { code?: number; stdout?: string; stderr?: string }) => err)
    expect('code' in r ? r.code : 0, `${named(b)}\n${script}\n${r.stdout}\n${r.stderr}`).toBe(0)
  })
})

describe('config examples in the docs load', () => {
  const yamlBlocks = ofLang('yaml')
  it.each(yamlBlocks.map((b) => [named(b), b] as const))('%s', async (_name, b) => {
    const doc = parseYaml(b.text) as Record<string, unknown>
    const isConnections = 'connections' in doc
    expect(isConnections || 'id' in doc, 'a connections.yaml or a mapping; mark fragments no-test').toBe(true)
    const connections = isConnections
      ? b
      : yamlBlocks.filter((c) => c.file === b.file && c.line < b.line && 'connections' in (parseYaml(c.text) as object)).at(-1)
    expect(connections, 'a mapping example needs a connections example above it').toBeDefined()
    const dir = await mkdtemp(join(tmpdir(), 'elsync-docs-'))
    await writeFile(join(dir, 'connections.yaml'), connections?.text ?? '')
    if (!isConnections) await writeFile(join(dir, 'example.mapping.yaml'), b.text)
    const names = [...(connections?.text ?? '').concat(b.text).matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1] as string)
    const vars = Object.fromEntries(names.map((n) => [n, `value-of-${n.toLowerCase()}`]))
    await expect(loadConfig({ dir, env: { ...vars, ELSYNC_SECRET_KEY: 'a-secret-key-for-the-docs' } })).resolves.toBeDefined()
  })
})
