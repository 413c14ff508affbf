/**
 * A simulator in its own process, so the benchmark's memory figures measure elsync and
 * not the simulator's store. Prints `{kind, baseUrl, credentials, statsUrl}` as one JSON
 * line once seeded, then serves until killed.
 *
 *   npx tsx bench/sim-server.ts elean|elementum <count>
 */
import { startElean } from '../src/sim/elean/index.js'
import { startElementum, seedNamespace } from '../src/sim/elementum/index.js'

const kind = process.argv[2] ?? 'elean'
const count = Number(process.argv[3] ?? 1000)
if (kind === 'elean') {
  const sim = await startElean({ port: 0, perMinute: 0 })
  sim.store.seed('bench', count, 1)
  console.log(JSON.stringify({ kind, baseUrl: sim.baseUrl, credentials: sim.credentials, simUrl: sim.server.url }))
} else {
  const sim = await startElementum({ port: 0 })
  seedNamespace(sim.store, 'tasks', 'bench', count, 1)
  console.log(JSON.stringify({ kind, baseUrl: sim.baseUrl, credentials: sim.credentials, simUrl: sim.server.url }))
}
