/** Request helpers shared by the simulators' handlers: bodies, credentials, query parameters. */
import type { IncomingMessage } from 'node:http'

export interface SimRequest {
  method: string
  path: string
  route: string
  params: Record<string, string>
  query: URLSearchParams
  headers: IncomingMessage['headers']
  body: Buffer
  url: URL
}

/** Thrown by handlers; rendered with the vendor's error shape. */
export class SimHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
}

/** Parses a JSON request body; a body that is not JSON is a 400 naming the problem. */
export function parseJsonBody(req: SimRequest): unknown {
  if (req.body.length === 0) return {}
  try {
    return JSON.parse(req.body.toString('utf8'))
  } catch {
    throw new SimHttpError(400, 'Request body is not valid JSON')
  }
}

/** A plain JSON object: not null, not an array. */
export const isJsonObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Parses a JSON request body that must be an object; other JSON is a 400 with `message`. */
export function parseJsonObject(req: SimRequest, message = 'Body must be a JSON object'): Record<string, unknown> {
  const body = parseJsonBody(req)
  if (!isJsonObject(body)) throw new SimHttpError(400, message)
  return body
}

/** Parses a multipart/form-data body with the platform's own parser (undici's Request.formData). */
export async function parseMultipart(req: SimRequest): Promise<FormData> {
  const type = String(req.headers['content-type'] ?? '')
  if (!type.startsWith('multipart/form-data')) throw new SimHttpError(400, 'Expected a multipart/form-data body')
  try {
    return await new Request('http://sim.local/', { method: 'POST', headers: { 'content-type': type }, body: req.body }).formData()
  } catch {
    throw new SimHttpError(400, 'Malformed multipart body')
  }
}

/** Reads the Bearer token of a request, or undefined. */
export function bearerToken(req: SimRequest): string | undefined {
  const h = req.headers.authorization
  if (typeof h !== 'string') return undefined
  const m = /^Bearer\s+(.+)$/i.exec(h)
  return m?.[1]
}

/** Reads HTTP Basic credentials, or undefined. */
export function basicCredentials(req: SimRequest): { user: string; password: string } | undefined {
  const h = req.headers.authorization
  if (typeof h !== 'string') return undefined
  const m = /^Basic\s+(.+)$/i.exec(h)
  if (!m?.[1]) return undefined
  const decoded = Buffer.from(m[1], 'base64').toString('utf8')
  const i = decoded.indexOf(':')
  if (i < 0) return undefined
  return { user: decoded.slice(0, i), password: decoded.slice(i + 1) }
}

/** A positive integer query parameter within bounds; otherwise a 400 naming it. */
export function intParam(req: SimRequest, name: string, dflt: number, min: number, max: number): number {
  const raw = req.query.get(name)
  if (raw === null || raw === '') return dflt
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) throw new SimHttpError(400, `${name} must be an integer between ${min} and ${max}`)
  return n
}
