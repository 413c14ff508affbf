/**
 * Loads a config directory: `connections.yaml` and `*.mapping.yaml` (in name order) are
 * parsed, interpolated, validated one by one, then checked against each other. Every problem
 * is collected and thrown at once as a ConfigError; no secret value appears in it.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { LineCounter, parseDocument } from 'yaml'
import { hasSecretKey } from './env.js'
import { ConfigError, fromZodIssues, type ConfigIssue } from './errors.js'
import { interpolate, type Env } from './interpolate.js'
import { CONNECTIONS_FILE, checkConnections, checkMappings, type DeclaredConnections, type LoadedMapping } from './references.js'
import { connectionSchema, connectionsFileSchema, mappingFileSchema, type Config, type ConnectionConfig, type OutboxSettings } from './schema.js'
import { rawConnectionSecrets, redact, rememberSecrets } from './secrets.js'

export const MAPPING_SUFFIX = '.mapping.yaml'

export interface LoadConfigOptions {
  readonly dir: string
  /** Variables for `${NAME}`; pass the process environment from the edge (env.ts). */
  readonly env: Env
}

/** The document's value, or undefined when it could not be read (the issues say why). */
function parseYaml(file: string, text: string, issues: ConfigIssue[]): unknown {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { prettyErrors: false, lineCounter, uniqueKeys: true })
  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      const { line, col } = lineCounter.linePos(err.pos[0])
      issues.push({ file, path: `line ${line}:${col}`, message: `YAML syntax error: ${err.message}` })
    }
    return undefined
  }
  try {
    const value: unknown = doc.toJS({ maxAliasCount: 100 })
    if (value === null || value === undefined) {
      issues.push({ file, path: '(root)', message: 'the file is empty' })
      return undefined
    }
    return value
  } catch (err) {
    issues.push({ file, path: '(root)', message: `cannot read YAML: ${err instanceof Error ? err.message : String(err)}` })
    return undefined
  }
}

async function listFiles(dir: string, issues: ConfigIssue[]): Promise<string[] | null> {
  try {
    return (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => e.name)
      .sort()
  } catch (err) {
    const code = (err as { code?: unknown }).code
    const message =
      code === 'ENOENT' ? 'config directory not found' : code === 'ENOTDIR' ? 'is not a directory' : `cannot list the config directory (${String(code)})`
    issues.push({ file: dir, path: '(directory)', message })
    return null
  }
}

/** Names (and stream names) declared in connections.yaml, however invalid their contents. */
function declaredConnections(document: unknown): DeclaredConnections | null {
  const connections = (document as { connections?: unknown } | null | undefined)?.connections
  if (connections === null || typeof connections !== 'object' || Array.isArray(connections)) return null
  const out = new Map<string, { streams: ReadonlySet<string> | null }>()
  for (const [name, raw] of Object.entries(connections)) {
    const streams = (raw as { streams?: unknown } | null)?.streams
    out.set(name, {
      streams:
        streams === undefined ? new Set() : streams !== null && typeof streams === 'object' && !Array.isArray(streams) ? new Set(Object.keys(streams)) : null,
    })
  }
  return out
}

/** Connections that validate on their own, when the file as a whole does not. */
function salvageConnections(document: unknown): Record<string, ConnectionConfig> {
  const out: Record<string, ConnectionConfig> = {}
  const connections = (document as { connections?: unknown } | null | undefined)?.connections
  if (connections === null || typeof connections !== 'object') return out
  for (const [name, raw] of Object.entries(connections)) {
    const parsed = connectionSchema.safeParse(raw)
    if (parsed.success) out[name] = parsed.data
  }
  return out
}

export async function loadConfig(options: LoadConfigOptions): Promise<Config> {
  const { dir, env } = options
  const issues: ConfigIssue[] = []
  const secrets: string[] = []
  const interpolationIssues: ConfigIssue[] = []

  const names = await listFiles(dir, issues)
  if (names === null) throw new ConfigError(issues)

  /** Parsed and interpolated; undefined when unreadable. Interpolation errors still yield a value to validate. */
  const read = async (file: string): Promise<unknown> => {
    let text: string
    try {
      text = await readFile(join(dir, file), 'utf8')
    } catch (err) {
      issues.push({ file, path: '(file)', message: `cannot read (${String((err as { code?: unknown }).code)})` })
      return undefined
    }
    const parsed = parseYaml(file, text, issues)
    if (parsed === undefined) return undefined
    const result = interpolate(parsed, { env, file, baseDir: dir })
    issues.push(...result.issues)
    interpolationIssues.push(...result.issues)
    secrets.push(...result.substituted.map((s) => s.value))
    return result.value
  }

  for (const name of names) {
    if (name === 'connections.yml') issues.push({ file: name, path: '(file)', message: `rename it to ${CONNECTIONS_FILE}: only that name is read` })
    else if (name.endsWith('.mapping.yml'))
      issues.push({ file: name, path: '(file)', message: `rename it to ${name.slice(0, -4)}.yaml: only *${MAPPING_SUFFIX} files are read` })
  }

  // ---- connections.yaml
  let connections: Record<string, ConnectionConfig> = {}
  let outbox: OutboxSettings | undefined
  let declared: DeclaredConnections | null = null
  if (!names.includes(CONNECTIONS_FILE)) {
    issues.push({ file: CONNECTIONS_FILE, path: '(file)', message: `not found in ${dir}; every config directory needs one` })
  } else {
    const document = await read(CONNECTIONS_FILE)
    secrets.push(...rawConnectionSecrets(document))
    declared = declaredConnections(document)
    if (document !== undefined) {
      const parsed = connectionsFileSchema.safeParse(document, { reportInput: true })
      if (parsed.success) ({ connections, outbox } = parsed.data)
      else {
        issues.push(...fromZodIssues(CONNECTIONS_FILE, parsed.error.issues))
        connections = salvageConnections(document)
      }
    }
    issues.push(...checkConnections(connections, { secretKeyAvailable: hasSecretKey(env) }))
  }

  // ---- *.mapping.yaml
  const mappings: LoadedMapping[] = []
  for (const name of names.filter((n) => n.endsWith(MAPPING_SUFFIX))) {
    const document = await read(name)
    if (document === undefined) continue
    const parsed = mappingFileSchema.safeParse(document, { reportInput: true })
    if (parsed.success) mappings.push({ file: name, mapping: parsed.data })
    else issues.push(...fromZodIssues(name, parsed.error.issues))
  }
  issues.push(...checkMappings(mappings, declared, connections))

  // A value whose interpolation failed was kept as `${NAME}`; its validation error is noise.
  const unresolved = new Set(interpolationIssues.map((i) => `${i.file}\0${i.path}`))
  const reported = issues.filter((i) => interpolationIssues.includes(i) || !unresolved.has(`${i.file}\0${i.path}`))
  if (reported.length > 0) {
    // Group by file, connections.yaml first, keeping the order found within a file.
    const rank = (file: string) => (file === CONNECTIONS_FILE ? -1 : names.indexOf(file))
    reported.sort((a, b) => rank(a.file) - rank(b.file))
    throw new ConfigError(reported.map((i) => ({ file: i.file, path: redact(i.path, secrets), message: redact(i.message, secrets) })))
  }
  const config: Config = { dir, connections, mappings: mappings.map((m) => m.mapping), ...(outbox && { outbox }) }
  rememberSecrets(config, secrets)
  return config
}
