/**
 * Checks that span fields or files, run after each file validated on its own: mappings name
 * existing connections and streams, ask only for what both sides can do, ids are unique, and
 * a connection's auth is consistent with its kind and headers.
 */
import { CONNECTOR_MODULES, connectorModule, kindsWith } from '../connectors/registry.js'
import { formatPath, type ConfigIssue, type PathSegment } from './errors.js'
import { mappingNeeds, type Side } from './needs.js'
import { forbiddenHeaderReason, type ConnectionConfig, type MappingConfig } from './schema.js'

export const CONNECTIONS_FILE = 'connections.yaml'

/**
 * Names declared in connections.yaml, even for connections that failed validation, so that a
 * broken connection does not also produce "unknown connection" errors in every mapping.
 * `streams` is null when the stream names could not be read.
 */
export type DeclaredConnections = ReadonlyMap<string, { readonly streams: ReadonlySet<string> | null }>

export interface LoadedMapping {
  readonly file: string
  readonly mapping: MappingConfig
}

export interface ConnectionCheckOptions {
  /** ELSYNC_SECRET_KEY is set: rotated refresh tokens can be stored encrypted. */
  readonly secretKeyAvailable: boolean
}

export function checkConnections(connections: Readonly<Record<string, ConnectionConfig>>, options: ConnectionCheckOptions): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const add = (path: PathSegment[], message: string) => issues.push({ file: CONNECTIONS_FILE, path: formatPath(['connections', ...path]), message })

  for (const [name, c] of Object.entries(connections)) {
    const auth = c.auth
    if (auth.mode === 'oauth2-client-credentials' && auth.tokenUrl === undefined && !connectorModule(c.kind).defaults.tokenUrl) {
      const implied = CONNECTOR_MODULES.filter((m) => m.defaults.tokenUrl).map((m) => m.kind)
      add([name, 'auth', 'tokenUrl'], `is required for kind ${c.kind} (only ${implied.join(' and ')} imply a token endpoint)`)
    }
    if (auth.mode === 'api-key' && auth.in === 'header') {
      const reason = auth.name.toLowerCase() === 'authorization' ? null : forbiddenHeaderReason(auth.name)
      if (reason) add([name, 'auth', 'name'], reason)
      const clash = Object.keys(c.headers ?? {}).find((h) => h.toLowerCase() === auth.name.toLowerCase())
      if (clash) add([name, 'headers', clash], `conflicts with the api-key header "${auth.name}" set by auth`)
    }
    if (auth.mode === 'oauth2-refresh-token' && !options.secretKeyAvailable) {
      add([name, 'auth', 'mode'], 'oauth2-refresh-token needs ELSYNC_SECRET_KEY: rotated refresh tokens are stored encrypted')
    }
  }
  return issues
}

export function checkMappings(
  mappings: readonly LoadedMapping[],
  declared: DeclaredConnections | null,
  connections: Readonly<Record<string, ConnectionConfig>>,
): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const seenIds = new Map<string, string>()
  const valid = (name: string) => (Object.hasOwn(connections, name) ? connections[name] : undefined)

  for (const { file, mapping: m } of mappings) {
    const add = (path: PathSegment[], message: string) => issues.push({ file, path: formatPath(path), message })

    const firstFile = seenIds.get(m.id)
    if (firstFile !== undefined) add(['id'], `duplicate mapping id "${m.id}" (also used in ${firstFile})`)
    else seenIds.set(m.id, file)

    // Unknown names make every further check on that side meaningless.
    const resolved: Partial<Record<Side, ConnectionConfig>> = {}
    for (const side of ['left', 'right'] as const) {
      const ref = m[side]
      if (declared === null) continue // connections.yaml itself is unreadable: reported there
      const decl = declared.get(ref.connection)
      if (decl === undefined) {
        const names = [...declared.keys()]
        add([side, 'connection'], `unknown connection "${ref.connection}"; ${CONNECTIONS_FILE} defines ${names.length ? names.join(', ') : 'none'}`)
        continue
      }
      if (decl.streams !== null && !decl.streams.has(ref.stream)) {
        const names = [...decl.streams]
        add([side, 'stream'], `unknown stream "${ref.stream}" on connection "${ref.connection}"; it defines ${names.length ? names.join(', ') : 'none'}`)
        continue
      }
      const conn = valid(ref.connection)
      if (conn) resolved[side] = conn
    }

    for (const need of mappingNeeds(m)) {
      const conn = resolved[need.side]
      if (!conn) continue
      const { ports, children } = connectorModule(conn.kind)
      if (need.ports.every((p) => ports.includes(p)) && need.children.every((c) => children.includes(c))) continue
      add([...need.path], need.message(m[need.side].connection, conn.kind, kindsWith(need.ports, need.children)))
    }

    m.fields.forEach((f, i) => {
      if (!f.valuesFrom || declared === null) return
      const name = f.valuesFrom.connection
      if (!declared.has(name)) {
        add(['fields', i, 'valuesFrom', 'connection'], `unknown connection "${name}"`)
        return
      }
      const conn = valid(name)
      if (conn && !connectorModule(conn.kind).ports.includes('lookups')) {
        add(
          ['fields', i, 'valuesFrom', 'connection'],
          `lookup tables come from a connection of kind ${kindsWith(['lookups']).join(' or ')}; "${name}" is kind ${conn.kind}`,
        )
      }
    })
  }
  return issues
}
