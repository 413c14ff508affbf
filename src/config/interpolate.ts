/**
 * `${NAME}` (from the environment) and `${file:/path}` (file contents, trailing newlines
 * trimmed) in every string value of a parsed YAML document, before validation. `$${` is a
 * literal `${`. Errors name the file, the path and the variable, never the value; every
 * value substituted is remembered so the logger can redact it.
 */
import { readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { formatPath, type ConfigIssue, type PathSegment } from './errors.js'

export { collectSecrets } from './secrets.js'

export type Env = Readonly<Record<string, string | undefined>>

export interface InterpolateOptions {
  readonly env: Env
  /** File name reported in issues. */
  readonly file: string
  /** Relative `${file:...}` paths resolve against this directory (the config directory). */
  readonly baseDir: string
  readonly readFile?: (path: string) => string
}

export interface SubstitutedValue {
  readonly path: readonly PathSegment[]
  readonly value: string
}

export interface Interpolated {
  readonly value: unknown
  readonly issues: readonly ConfigIssue[]
  /** Values that came from the environment or a file, with where they landed. */
  readonly substituted: readonly SubstitutedValue[]
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * Keys whose value is an identifier or an address, needed in clear in error messages and logs
 * to be diagnosable. URLs cannot carry credentials (the schema refuses userinfo); an OAuth
 * client id, a scope and a Basic user name are public by design.
 */
const NOT_SECRET_KEYS = new Set(['baseUrl', 'tokenUrl', 'healthCheckPath', 'clientId', 'scope', 'username'])

const readUtf8 = (path: string) => readFileSync(path, 'utf8')

export function interpolate(document: unknown, options: InterpolateOptions): Interpolated {
  const issues: ConfigIssue[] = []
  const substituted: SubstitutedValue[] = []
  const read = options.readFile ?? readUtf8

  const resolveRef = (ref: string, path: readonly PathSegment[]): string | undefined => {
    const fail = (message: string) => {
      issues.push({ file: options.file, path: formatPath(path), message })
      return undefined
    }
    if (ref.startsWith('file:')) {
      const target = ref.slice('file:'.length)
      if (target === '') return fail('${file:} needs a path, e.g. ${file:/run/secrets/token}')
      const full = isAbsolute(target) ? target : resolve(options.baseDir, target)
      try {
        return read(full).replace(/[\r\n]+$/, '')
      } catch (err) {
        const code = (err as { code?: unknown }).code
        return fail(`cannot read file ${full} for \${file:${target}}${typeof code === 'string' ? ` (${code})` : ''}`)
      }
    }
    if (!ENV_NAME.test(ref)) {
      return fail(`invalid reference \${${ref}}: expected \${NAME} (letters, digits, _) or \${file:/path}`)
    }
    const value = options.env[ref]
    if (value === undefined) return fail(`environment variable ${ref} is not set`)
    return value
  }

  const interpolateString = (text: string, path: readonly PathSegment[]): string => {
    if (!text.includes('${')) return text
    let out = ''
    let i = 0
    const found: string[] = []
    while (i < text.length) {
      const start = text.indexOf('$', i)
      if (start === -1) break
      out += text.slice(i, start)
      if (text.startsWith('$${', start)) {
        out += '${'
        i = start + 3
        continue
      }
      if (!text.startsWith('${', start)) {
        out += '$'
        i = start + 1
        continue
      }
      const end = text.indexOf('}', start + 2)
      if (end === -1) {
        issues.push({ file: options.file, path: formatPath(path), message: 'unclosed "${": expected ${NAME} or ${file:/path} (write $${ for a literal ${)' })
        out += text.slice(start)
        i = text.length
        break
      }
      const value = resolveRef(text.slice(start + 2, end), path)
      if (value !== undefined) {
        out += value
        found.push(value)
      } else {
        // Keep the reference so validation does not add a second error for the same value.
        out += text.slice(start, end + 1)
      }
      i = end + 1
    }
    out += text.slice(i)
    const key = path[path.length - 1]
    if (!(typeof key === 'string' && NOT_SECRET_KEYS.has(key))) {
      for (const value of found) if (value !== '') substituted.push({ path, value })
    }
    return out
  }

  const walk = (node: unknown, path: readonly PathSegment[]): unknown => {
    if (typeof node === 'string') return interpolateString(node, path)
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]))
    if (node !== null && typeof node === 'object') {
      const out: Record<string, unknown> = {}
      for (const [key, child] of Object.entries(node)) {
        // defineProperty: a YAML key named __proto__ stays a plain key.
        Object.defineProperty(out, key, { value: walk(child, [...path, key]), enumerable: true, writable: true, configurable: true })
      }
      return out
    }
    return node
  }

  return { value: walk(document, []), issues, substituted }
}
