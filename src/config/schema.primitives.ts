/**
 * Small zod building blocks shared by the connection and mapping schemas: names, URLs,
 * cron expressions and custom headers. Messages say what was expected and, where the value
 * cannot be a secret, what was found.
 */
import { parseRsql, RsqlSyntaxError, type RsqlOptions } from '../engine/rsql.js'
import { validate as isValidCron, validateDetailed as explainCron } from 'node-cron'
import { z } from 'zod'

/** Names of connections, streams and mappings end up in database keys and admin URLs. */
const SLUG = /^[a-z0-9][a-z0-9_-]{0,62}$/

export const slug = (what: string) =>
  z.string().regex(SLUG, {
    error: `${what} must be a slug: lowercase letters, digits, "-" and "_", starting with a letter or digit, at most 63 characters`,
  })

export const nonEmpty = z.string().min(1, { error: 'must not be empty' })

/** A one-line string: values that end up in headers, query strings or markers. */
export const singleLine = nonEmpty.refine((s) => !/[\u0000-\u001f\u007f]/.test(s), {
  error: 'must not contain line breaks or control characters',
})

/**
 * YAML turns `P1: 1` or `Active: true` into numbers and booleans; a value map or a header
 * value is text on the wire, so scalars are accepted and kept as their text.
 */
export const scalarText = z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string' }).transform((v) => String(v))

// ---------------------------------------------------------------- URLs

function isLoopbackHost(hostname: string): boolean {
  // WHATWG URL already canonicalises IPv4 shorthands (127.1 → 127.0.0.1) and brackets IPv6.
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
}

/** What an error may show of a URL: never its credentials or query string. */
function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`
}

/** `https://` anywhere; plain `http://` only on loopback so tests and the demo can reach simulators. */
export const secureUrl = z.string().superRefine((value, ctx) => {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute URL such as https://api.example.com/v1' })
    return
  }
  if (url.username !== '' || url.password !== '') {
    ctx.addIssue({ code: 'custom', message: 'must not contain credentials; put them under auth' })
    return
  }
  if (url.protocol === 'https:') return
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return
  ctx.addIssue({
    code: 'custom',
    message: `must use https:// (plain http:// is allowed only for loopback hosts), got ${describeUrl(url)}`,
  })
})

/** A path resolved against the connection's baseUrl, never an absolute URL. */
export const relativePath = nonEmpty.refine((s) => !/^[a-z][a-z0-9+.-]*:/i.test(s) && !s.startsWith('//'), {
  error: 'must be a path relative to baseUrl such as /health, not an absolute URL',
})

// ---------------------------------------------------------------- cron

/** node-cron's field names, as a person reads them, with what each accepts. */
const CRON_FIELDS: Readonly<Record<string, string>> = {
  second: 'second (0-59)',
  minute: 'minute (0-59)',
  hour: 'hour (0-23)',
  dayOfMonth: 'day of month (1-31)',
  month: 'month (1-12 or jan-dec)',
  dayOfWeek: 'day of week (0-7 or sun-sat)',
}

/** Why node-cron refuses `value`, in our words (its own read "61 is a invalid expression for minute"). */
export function explainCronError(value: string): string {
  const problems = explainCron(value).errors.map((e) => {
    const fields = /^expected 5 or 6 fields but got (\d+)$/.exec(e.message)
    if (fields) return `it has ${fields[1]} fields, expected 5 (minute hour day-of-month month day-of-week) or 6 (a seconds field first)`
    const field = CRON_FIELDS[e.field]
    if (field) return `${JSON.stringify(e.value)} is not a valid ${field}`
    return value.trim() === '' ? 'it is empty' : 'it contains characters a cron expression cannot have'
  })
  return problems.length > 0 ? problems.join('; ') : 'node-cron refuses it'
}

export const cronExpression = z.string().superRefine((value, ctx) => {
  if (isValidCron(value)) return
  ctx.addIssue({ code: 'custom', message: `must be a cron expression such as "*/1 * * * *": ${explainCronError(value)}` })
})

// ---------------------------------------------------------------- headers

export const MAX_CUSTOM_HEADERS = 20

/** The browser "forbidden header names" plus Authorization, which belongs to `auth`. */
const FORBIDDEN_HEADERS = new Set([
  'accept-charset',
  'accept-encoding',
  'access-control-request-headers',
  'access-control-request-method',
  'authorization',
  'connection',
  'content-length',
  'cookie',
  'cookie2',
  'date',
  'dnt',
  'expect',
  'host',
  'keep-alive',
  'origin',
  'proxy-authorization',
  'proxy-connection',
  'referer',
  'set-cookie',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'via',
])
const FORBIDDEN_PREFIXES = ['access-control-', 'proxy-', 'sec-']

/** RFC 9110 token characters. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

export function forbiddenHeaderReason(name: string): string | null {
  const lower = name.toLowerCase()
  if (FORBIDDEN_HEADERS.has(lower)) {
    return lower === 'authorization'
      ? 'header "Authorization" cannot be set here; configure it with auth'
      : `header "${name}" is a forbidden header name and cannot be set`
  }
  const prefix = FORBIDDEN_PREFIXES.find((p) => lower.startsWith(p))
  if (prefix) return `header "${name}" is forbidden (names starting with "${prefix}" cannot be set)`
  return null
}

export const customHeaders = z.record(z.string(), scalarText).superRefine((headers, ctx) => {
  const names = Object.keys(headers)
  if (names.length > MAX_CUSTOM_HEADERS) {
    ctx.addIssue({
      code: 'custom',
      message: `at most ${MAX_CUSTOM_HEADERS} custom headers are allowed, got ${names.length}`,
    })
  }
  const seen = new Map<string, string>()
  for (const name of names) {
    if (!HEADER_NAME.test(name)) {
      ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" is not a valid HTTP header name` })
      continue
    }
    const reason = forbiddenHeaderReason(name)
    if (reason) ctx.addIssue({ code: 'custom', path: [name], message: reason })
    const earlier = seen.get(name.toLowerCase())
    if (earlier !== undefined) {
      ctx.addIssue({ code: 'custom', path: [name], message: `duplicates header "${earlier}" (names are case-insensitive)` })
    }
    seen.set(name.toLowerCase(), name)
    if (/[\r\n\u0000]/.test(headers[name] ?? '')) {
      ctx.addIssue({ code: 'custom', path: [name], message: 'header value must not contain line breaks or NUL' })
    }
  }
})

/** A header name for auth (api-key), where Authorization is legitimate. */
export const headerName = z.string().regex(HEADER_NAME, { error: 'must be a valid HTTP header name' })

/**
 * Adds an issue for each problem of an RSQL filter (there is at most one: the parser stops at
 * the first), naming its position and quoting the text there so a typo is easy to find.
 */
export function refineRsqlFilter(ctx: z.core.$RefinementCtx, filter: string, options: RsqlOptions = {}, path: PropertyKey[] = []): void {
  try {
    parseRsql(filter, options)
  } catch (err) {
    if (!(err instanceof RsqlSyntaxError)) throw err
    const rest = filter.slice(err.position)
    const near = rest.trim() === '' ? 'at the end' : `at ${JSON.stringify(rest.length > 24 ? `${rest.slice(0, 24)}…` : rest)}`
    ctx.addIssue({ code: 'custom', path, message: `not a valid RSQL filter: position ${err.position} (${near}): ${err.reason}` })
  }
}

/**
 * An RSQL filter (DESIGN.md section 1). Selectors whose names read as dates (`Created on`,
 * `Updated on`, `Due Date`, `updatedAt`, …) must be compared with dates; see engine/rsql.dates.ts.
 */
export const rsqlFilter = nonEmpty.superRefine((s, ctx) => refineRsqlFilter(ctx, s))
