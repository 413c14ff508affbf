/**
 * Fault injection shared by every simulator. Each fault is armed with a count and
 * consumed by the next matching requests (control routes under `/_sim/` are never
 * affected). `route` narrows a fault to paths starting with that prefix.
 */
export type FaultKind =
  | 'status' // answer `status` (e.g. 500, 503, 429) with the vendor's error shape
  | 'rate-limit' // answer 429 with Retry-After: retryAfterSeconds
  | 'hang' // never answer for `hangMs` (longer than the client timeout)
  | 'truncate' // send half of the real body, then destroy the socket
  | 'html' // answer 200 with an HTML page
  | 'malformed-json' // answer 200 with `{"broken":` as application/json
  | 'drift' // vendor hook: insert/delete rows at the head before each list request

export interface Fault {
  kind: FaultKind
  /** Strikes left. */
  count: number
  route?: string
  /** Strike only every `every`-th matching request (default 1: each one), for a flaky API. */
  every?: number
  /**
   * Let this many matching requests through before the first strike: a fault on the second
   * page of a scan can be armed before the scan, whether or not the client reads ahead.
   */
  skip?: number
  /** Matching requests seen by a fault with `every`. */
  seen?: number
  status?: number
  retryAfterSeconds?: number
  hangMs?: number
  insert?: number
  delete?: number
}

export interface FaultBox {
  arm(fault: Fault): void
  /** Takes one use of the first armed fault of a kind in `kinds` matching `path`. */
  take(path: string, kinds: readonly FaultKind[]): Fault | undefined
  clear(): void
  list(): readonly Fault[]
  skewMs: number
}

const FAULT_KINDS: readonly FaultKind[] = ['status', 'rate-limit', 'hang', 'truncate', 'html', 'malformed-json', 'drift']

export function parseFault(body: unknown): Fault {
  if (typeof body !== 'object' || body === null) throw new Error('fault body must be a JSON object')
  const b = body as Record<string, unknown>
  if (!FAULT_KINDS.includes(b.kind as FaultKind)) throw new Error(`fault.kind must be one of ${FAULT_KINDS.join(', ')}`)
  const num = (key: string): number | undefined => {
    const v = b[key]
    if (v === undefined) return undefined
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`fault.${key} must be a non-negative number`)
    return v
  }
  const fault: Fault = { kind: b.kind as FaultKind, count: num('count') ?? 1 }
  if (typeof b.route === 'string') fault.route = b.route
  for (const key of ['status', 'retryAfterSeconds', 'hangMs', 'insert', 'delete', 'every', 'skip'] as const) {
    const v = num(key)
    if (v !== undefined) fault[key] = v
  }
  if (fault.every !== undefined && (!Number.isInteger(fault.every) || fault.every < 1)) throw new Error('fault.every must be a positive integer')
  if (fault.kind === 'status' && fault.status === undefined) throw new Error('fault.status is required for kind "status"')
  return fault
}

export function createFaultBox(): FaultBox {
  let faults: Fault[] = []
  return {
    skewMs: 0,
    arm: (fault) => {
      faults.push({ ...fault })
    },
    take: (path, kinds) => {
      const matching = faults
        .filter((x) => kinds.includes(x.kind) && x.count > 0 && (x.route === undefined || path.startsWith(x.route)))
        // a fault still letting requests through lets this one through (and counts it)
        .filter((x) => !(x.skip !== undefined && x.skip > 0 && x.skip-- > 0))
      // every periodic fault counts the request, whether or not it strikes
      for (const x of matching) if (x.every !== undefined) x.seen = (x.seen ?? 0) + 1
      const f = matching.find((x) => x.every === undefined || (x.seen ?? 0) % x.every === 0)
      if (!f) return undefined
      f.count -= 1
      faults = faults.filter((x) => x.count > 0)
      return f
    },
    clear: () => {
      faults = []
    },
    list: () => faults,
  }
}
