import { startAvepoint, type StartedAvepoint } from './avepoint/index.js'
import { startElasticio, type StartedElasticio } from './elasticio/index.js'
import { startElean, type StartedElean } from './elean/index.js'
import { startElementum, type StartedElementum } from './elementum/index.js'
import type { StartedSim } from './types.js'

/** The four API simulators, started together for `elsync sim`, `elsync demo` and the benchmarks. */

export type { SimOptions, StartedSim } from './types.js'
export { startAvepoint, type StartedAvepoint } from './avepoint/index.js'
export { startElasticio, type StartedElasticio } from './elasticio/index.js'
export { startElean, type StartedElean } from './elean/index.js'
export { startElementum, type StartedElementum } from './elementum/index.js'

export interface AllSimsOptions {
  host?: string
  /** Port per simulator; 0 or absent picks a free port. */
  ports?: { elementum?: number; elean?: number; avepoint?: number; elasticio?: number }
  seed?: number
}

export type AllSims = [StartedElementum, StartedElean, StartedAvepoint, StartedElasticio]

/** Starts all four; if one fails to start, the others are closed and the first error is thrown. */
export async function startAllSims(opts: AllSimsOptions = {}): Promise<AllSims> {
  const common = { ...(opts.host !== undefined && { host: opts.host }), ...(opts.seed !== undefined && { seed: opts.seed }) }
  const port = (p: number | undefined) => (p === undefined ? {} : { port: p })
  const results = await Promise.allSettled([
    startElementum({ ...common, ...port(opts.ports?.elementum) }),
    startElean({ ...common, ...port(opts.ports?.elean) }),
    startAvepoint({ ...common, ...port(opts.ports?.avepoint) }),
    startElasticio({ ...common, ...port(opts.ports?.elasticio) }),
  ])
  const failed = results.find((r) => r.status === 'rejected')
  if (failed) {
    const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value as StartedSim] : []))
    await Promise.allSettled(started.map((s) => s.close()))
    throw failed.reason
  }
  return results.map((r) => (r as PromiseFulfilledResult<StartedSim>).value) as AllSims
}
