/**
 * Config errors: every problem found in the config directory (or the environment) is one
 * issue naming the file, the path inside it and what was expected; all of them are reported
 * at once in a single ConfigError.
 */
import type { z } from 'zod'
import { SyncError } from '../engine/errors.js'

export type PathSegment = string | number

export interface ConfigIssue {
  /** File name relative to the config directory, or `environment` for env variables. */
  readonly file: string
  /** Dotted path inside the file (`connections.elean.auth.token`, `fields[2].values`), or `line 3:5`. */
  readonly path: string
  readonly message: string
}

export function formatIssue(issue: ConfigIssue): string {
  return `${issue.file}: ${issue.path}: ${issue.message}`
}

export class ConfigError extends SyncError {
  override readonly code = 'invalid_config'
  readonly issues: readonly ConfigIssue[]

  constructor(issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    super(issues.map(formatIssue).join('\n'), options)
    this.issues = issues
  }
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/

/** `['connections', 'elean', 'auth', 'token']` → `connections.elean.auth.token`; `[]` → `(root)`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`
    else if (typeof seg === 'string' && PLAIN_KEY.test(seg)) out += out === '' ? seg : `.${seg}`
    else out += `[${JSON.stringify(String(seg))}]`
  }
  return out === '' ? '(root)' : out
}

function expectedName(expected: string): string {
  return expected === 'object' || expected === 'record' ? 'a mapping' : expected === 'array' ? 'a list' : expected
}

function describeType(input: unknown): string {
  if (input === null) return 'null'
  if (Array.isArray(input)) return 'a list'
  if (typeof input === 'object') return 'a mapping'
  return typeof input
}

/** A scalar worth quoting back to the user (secrets are scrubbed later by the loader). */
function describeValue(input: unknown): string {
  return typeof input === 'string' || typeof input === 'number' || typeof input === 'boolean' ? JSON.stringify(input) : describeType(input)
}

type ZodIssue = z.core.$ZodIssue

/**
 * A union whose branches are "a string" and "an object" fails with one useless "Invalid
 * input"; report the branch whose type matched instead.
 */
function pickUnionBranch(issue: Extract<ZodIssue, { code: 'invalid_union' }>): ZodIssue[] | null {
  const typed = issue.errors.filter((branch) => !branch.some((b) => b.code === 'invalid_type' && b.path.length === 0))
  if (typed.length === 1 && typed[0]) return typed[0]
  // Several branches take this type (an enum of strings vs an object): the one that got past its root matched.
  const nested = typed.filter((branch) => branch.every((b) => b.path.length > 0))
  return nested.length === 1 && nested[0] ? nested[0] : null
}

function describeIssue(issue: ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined
        ? `is required (expected ${expectedName(issue.expected)})`
        : `expected ${expectedName(issue.expected)}, got ${describeType(issue.input)}`
    case 'invalid_value':
      return `expected ${issue.values.map((v) => String(v)).join(' | ')}, got ${describeValue(issue.input)}`
    case 'invalid_union':
      if ('discriminator' in issue && typeof issue.discriminator === 'string') {
        const options = (issue as { options?: unknown[] }).options ?? []
        const input: unknown = issue.input
        const value = input !== null && typeof input === 'object' ? (input as Record<string, unknown>)[issue.discriminator] : input
        const got = value === undefined ? 'nothing' : describeValue(value)
        return `expected ${options.map(String).join(' | ')}, got ${got}`
      }
      return issue.message
    case 'too_small':
      if (!issue.message.startsWith('Too small')) return issue.message // a message of ours
      if (issue.origin === 'array') return `needs at least ${String(issue.minimum)} item(s)`
      if (issue.origin === 'string') return `must be at least ${String(issue.minimum)} characters long`
      return `must be ${issue.inclusive === false ? '>' : '≥'} ${String(issue.minimum)}, got ${describeValue(issue.input)}`
    case 'too_big':
      if (!issue.message.startsWith('Too big')) return issue.message
      if (issue.origin === 'array') return `allows at most ${String(issue.maximum)} item(s)`
      if (issue.origin === 'string') return `must be at most ${String(issue.maximum)} characters long`
      return `must be ${issue.inclusive === false ? '<' : '≤'} ${String(issue.maximum)}, got ${describeValue(issue.input)}`
    default:
      return issue.message
  }
}

/** Zod issues → config issues, with paths prefixed by `base` and nested unions/keys unfolded. */
export function fromZodIssues(file: string, issues: readonly ZodIssue[], base: readonly PathSegment[] = []): ConfigIssue[] {
  const out: ConfigIssue[] = []
  for (const issue of issues) {
    const path = [...base, ...(issue.path as PathSegment[])]
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ file, path: formatPath([...path, key]), message: `unknown key "${key}"` })
    } else if (issue.code === 'invalid_key') {
      const why = issue.issues.map((i) => i.message).join('; ')
      const key = path[path.length - 1]
      out.push({ file, path: formatPath(path.slice(0, -1)), message: `invalid name "${String(key)}": ${why}` })
    } else if (issue.code === 'invalid_union' && pickUnionBranch(issue)) {
      out.push(...fromZodIssues(file, pickUnionBranch(issue) ?? [], path))
    } else {
      out.push({ file, path: formatPath(path), message: describeIssue(issue) })
    }
  }
  return out
}
