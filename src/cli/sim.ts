import { createServer, isIP } from 'node:net'
import { parseArgs } from 'node:util'
import { seedComments } from '../sim/elean/seed.js'
import { seedActivity, seedNamespace } from '../sim/elementum/seed.js'
import { startAllSims, type AllSims } from '../sim/index.js'
import type { StartedSim } from '../sim/types.js'
import { ExitError } from './errors.js'

/**
 * `elsync sim` — the four API simulators on loopback with sample data, until SIGINT/SIGTERM.
 * Fixed default ports so a connections.yaml written against them keeps working.
 */

export const DEFAULT_PORTS = { elementum: 4101, elean: 4102, avepoint: 4103, elasticio: 4104 } as const
/** Where `elsync sim` puts its sample data (the names used by the example config in ./mappings). */
export const SAMPLE = { elementumRecordType: 'tasks', elementumAlias: 'it-requests', eleanProject: 'web' } as const

const MAX_RECORDS = 100_000

const USAGE = `usage: elsync sim [--elementum-port N] [--elean-port N] [--avepoint-port N] [--elasticio-port N]
                 [--host 127.0.0.1] [--seed N] [--records N]`

export interface SimCommandIo {
  out: (line: string) => void
  err: (line: string) => void
  /** Resolves when the simulators should stop; default: the first SIGINT or SIGTERM. */
  stopped?: Promise<void>
}

const defaultIo: SimCommandIo = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) }

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return isIP(host) === 6 && (host === '::1' || host === '0:0:0:0:0:0:0:1')
}

function intOption(value: string | undefined, name: string, dflt: number, min: number, max: number): number {
  if (value === undefined) return dflt
  const n = Number(value)
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new ExitError(2, `--${name} must be an integer between ${min} and ${max}`)
  return n
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done)
      process.off('SIGTERM', done)
      resolve()
    }
    process.once('SIGINT', done)
    process.once('SIGTERM', done)
  })
}

/** Sample data in every simulator, with comments, attachments and related items where the vendor has them. */
export function seedAll([elementum, elean, avepoint, elasticio]: AllSims, records: number, seed: number): void {
  seedNamespace(elementum.store, SAMPLE.elementumRecordType, SAMPLE.elementumAlias, records, seed)
  const namespace = elementum.store.namespace(SAMPLE.elementumRecordType, SAMPLE.elementumAlias)
  if (namespace) seedActivity(elementum.store, namespace, seed)
  elean.store.seed(SAMPLE.eleanProject, records, seed)
  const project = elean.store.project(SAMPLE.eleanProject)
  if (project) seedComments(project, seed, elean.server.clock.now())
  avepoint.store.seed({ customers: records, tenantsPerCustomer: 1, usersPerTenant: 1, services: records, seed })
  elasticio.store.seed({ flows: records, lookups: records, credentials: records, users: records, organizations: records, seed })
}

/** The variables the example config in ./mappings reads, pointing it at these simulators. */
export function exampleConfigEnv([elementum, elean, avepoint, elasticio]: AllSims): Record<string, string> {
  const c = (sim: StartedSim, name: string): string => sim.credentials[name] ?? ''
  return {
    ELEMENTUM_BASE_URL: elementum.baseUrl,
    ELEMENTUM_CLIENT_ID: c(elementum, 'clientId'),
    ELEMENTUM_CLIENT_SECRET: c(elementum, 'clientSecret'),
    ELEAN_BASE_URL: elean.baseUrl,
    ELEAN_API_KEY: c(elean, 'apiKey'),
    AVEPOINT_BASE_URL: avepoint.baseUrl,
    AVEPOINT_TOKEN_URL: c(avepoint, 'tokenUrl'),
    AVEPOINT_CLIENT_ID: c(avepoint, 'clientId'),
    AVEPOINT_CLIENT_SECRET: c(avepoint, 'clientSecret'),
    ELASTICIO_BASE_URL: elasticio.baseUrl,
    ELASTICIO_EMAIL: c(elasticio, 'email'),
    ELASTICIO_API_KEY: c(elasticio, 'apiKey'),
    ELASTICIO_WORKSPACE_ID: elasticio.store.workspaceId,
  }
}

const q = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`
const tokenOf = (json: string): string => `$(curl -s ${json} | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`

/** One copy-pasteable request per vendor that authenticates and reads a page. */
function curlExample(sim: StartedSim, elasticioWorkspace: string): string {
  const c = sim.credentials
  switch (sim.kind) {
    case 'elementum':
      return `curl -s -H "Authorization: Bearer ${tokenOf(`-u ${q(`${c.clientId}:${c.clientSecret}`)} -d grant_type=client_credentials ${q(c.tokenUrl ?? '')}`)}" ${q(`${sim.baseUrl}/${SAMPLE.elementumRecordType}/${SAMPLE.elementumAlias}?first=5`)}`
    case 'elean':
      return `curl -s -H ${q(`Authorization: Bearer ${c.apiKey}`)} ${q(`${sim.baseUrl}/${SAMPLE.eleanProject}/tasks?limit=5`)}`
    case 'avepoint': {
      const form = `-d grant_type=client_credentials -d client_id=${q(c.clientId ?? '')} -d client_secret=${q(c.clientSecret ?? '')} --data-urlencode scope=${q(c.scope ?? '')} ${q(c.tokenUrl ?? '')}`
      return `curl -s -H "Authorization: Bearer ${tokenOf(form)}" ${q(`${sim.baseUrl}/partner/external/v3/general/customers?pageSize=5`)}`
    }
    case 'elasticio':
      return `curl -s -g -u ${q(`${c.email}:${c.apiKey}`)} ${q(`${sim.baseUrl}/flows?workspace_id=${elasticioWorkspace}&page[size]=5`)}`
  }
}

/** Base URL, credentials and a curl example per simulator (`elsync sim` and `elsync demo` print the same). */
export function printSims(sims: AllSims, out: (line: string) => void): void {
  const workspaceId = sims[3].store.workspaceId
  for (const sim of sims) {
    out('')
    out(`${sim.kind}  ${sim.baseUrl}`)
    for (const [name, value] of Object.entries(sim.credentials)) out(`  ${name}: ${value}`)
    if (sim.kind === 'elasticio') out(`  workspaceId: ${workspaceId}`)
    out(`  ${curlExample(sim, workspaceId)}`)
  }
}

export function portIsFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer()
    probe.once('error', () => resolve(false))
    probe.listen(port, host, () => probe.close(() => resolve(true)))
  })
}

/**
 * The four simulators on the default ports 4101–4104 where those are free (so the curls in
 * the docs work as written), on any free port otherwise.
 */
export async function startOnDefaultPorts(opts: { seed: number; host?: string }): Promise<{ sims: AllSims; moved: string[] }> {
  const host = opts.host ?? '127.0.0.1'
  const names = Object.keys(DEFAULT_PORTS) as (keyof typeof DEFAULT_PORTS)[]
  const free = await Promise.all(names.map((name) => portIsFree(DEFAULT_PORTS[name], host)))
  const ports = Object.fromEntries(names.map((name, i) => [name, free[i] ? DEFAULT_PORTS[name] : 0]))
  const moved = names.filter((_, i) => !free[i])
  try {
    return { sims: await startAllSims({ host, ports, seed: opts.seed }), moved }
  } catch (err) {
    // a port taken between the probe and the listen: fall back to free ports for all
    if ((err as { code?: unknown }).code !== 'EADDRINUSE') throw err
    return { sims: await startAllSims({ host, seed: opts.seed }), moved: names }
  }
}

export async function main(argv: readonly string[], io: SimCommandIo = defaultIo): Promise<number> {
  let opts: { host: string; seed: number; records: number; ports: Record<keyof typeof DEFAULT_PORTS, number> }
  try {
    const { values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        'elementum-port': { type: 'string' },
        'elean-port': { type: 'string' },
        'avepoint-port': { type: 'string' },
        'elasticio-port': { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        seed: { type: 'string' },
        records: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    })
    if (values.help) {
      io.out(USAGE)
      return 0
    }
    const host = values.host
    if (!isLoopback(host)) throw new ExitError(2, `--host ${host} is not a loopback address; the simulators only listen on loopback`)
    const port = (name: keyof typeof DEFAULT_PORTS) => intOption(values[`${name}-port`], `${name}-port`, DEFAULT_PORTS[name], 0, 65_535)
    opts = {
      host,
      seed: intOption(values.seed, 'seed', 1, 0, 2 ** 32 - 1),
      records: intOption(values.records, 'records', 50, 0, MAX_RECORDS),
      ports: { elementum: port('elementum'), elean: port('elean'), avepoint: port('avepoint'), elasticio: port('elasticio') },
    }
  } catch (err) {
    io.err(`elsync sim: ${err instanceof Error ? err.message : String(err)}`)
    io.err(USAGE)
    return 2
  }

  let sims: AllSims
  try {
    sims = await startAllSims({ host: opts.host, ports: opts.ports, seed: opts.seed })
  } catch (err) {
    io.err(`elsync sim: could not start the simulators: ${err instanceof Error ? err.message : String(err)}`)
    return 1
  }
  try {
    seedAll(sims, opts.records, opts.seed)
    io.out(`elsync sim: ${opts.records} sample records per simulator (seed ${opts.seed}); Ctrl-C to stop`)
    printSims(sims, io.out)
    io.out('')
    await (io.stopped ?? untilSignal())
    return 0
  } catch (err) {
    io.err(`elsync sim: ${err instanceof Error ? err.message : String(err)}`)
    return 1
  } finally {
    await Promise.allSettled(sims.map((s) => s.close()))
  }
}
