/**
 * Checks that span fields or files, run after each file validated on its own: mappings name
 * existing connections and streams, ask only for what both sides can do, ids are unique, and
 * a connection's auth is consistent with its kind and headers.
 */
import { CAPABILITIES, kindsWith, type Capability } from './capabilities.js'
import { formatPath, type ConfigIssue, type PathSegment } from './errors.js'
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
    if (auth.mode === 'oauth2-client-credentials' && auth.tokenUrl === undefined && !CAPABILITIES[c.kind].impliedTokenUrl) {
      add([name, 'auth', 'tokenUrl'], `is required for kind ${c.kind} (only ${kindsWith('impliedTokenUrl').join(' and ')} imply a token endpoint)`)
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

const CAPABILITY_LABEL: Record<Capability, string> = {
  comments: 'comments',
  attachments: 'attachments',
  related: 'related items',
}

type Side = 'left' | 'right'

/** Which sides a mapping writes to (a side is written when data flows towards it). */
function sidesWritten(m: MappingConfig): Set<Side> {
  const out = new Set<Side>()
  const flows = (d: string) => {
    if (d === 'both' || d === 'left-to-right') out.add('right')
    if (d === 'both' || d === 'right-to-left') out.add('left')
  }
  flows(m.create)
  for (const f of m.fields) flows(f.direction)
  flows(m.comments)
  flows(m.attachments.direction)
  flows(m.related)
  if (m.delete === 'propagate') flows('both')
  return out
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

    for (const capability of ['comments', 'attachments', 'related'] as const) {
      const direction = capability === 'attachments' ? m.attachments.direction : m[capability]
      if (direction === 'none') continue
      for (const side of ['left', 'right'] as const) {
        const conn = resolved[side]
        if (conn && !CAPABILITIES[conn.kind][capability]) {
          add(
            capability === 'attachments' ? ['attachments', 'direction'] : [capability],
            `${CAPABILITY_LABEL[capability]} are not supported by the ${side} side: connection "${m[side].connection}" is kind ${conn.kind} (supported by ${kindsWith(capability).join(', ')})`,
          )
        }
      }
    }

    for (const side of sidesWritten(m)) {
      const conn = resolved[side]
      if (conn && !CAPABILITIES[conn.kind].write) {
        add(
          [side, 'connection'],
          `connection "${m[side].connection}" is kind ${conn.kind}, which is read-only, but this mapping writes to its side (check create, delete and the direction of fields)`,
        )
      }
    }

    m.fields.forEach((f, i) => {
      if (!f.valuesFrom || declared === null) return
      const name = f.valuesFrom.connection
      if (!declared.has(name)) {
        add(['fields', i, 'valuesFrom', 'connection'], `unknown connection "${name}"`)
        return
      }
      const conn = valid(name)
      if (conn && conn.kind !== 'elasticio') {
        add(['fields', i, 'valuesFrom', 'connection'], `lookup tables come from an elasticio connection; "${name}" is kind ${conn.kind}`)
      }
    })
  }
  return issues
}
