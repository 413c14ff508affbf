import { copyFile, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type StartedElean, startElean } from '../../src/sim/elean/index.js'
import { type StartedElementum, seedNamespace, startElementum } from '../../src/sim/elementum/index.js'
import { writeSimConfig } from './sim.config.js'
import { vendorWrites } from './sync-cycle.js'

/** An Elementum and an Elean simulator joined by the example mapping `it-requests` (crash and replica tests). */
export interface SimPair {
  elementum: StartedElementum
  elean: StartedElean
}

/** The pair's sample data: `left` Elementum requests and `right` settled Elean tasks from `seed` (default 8, 6, 5). */
export interface PairSeed {
  seed?: number
  left?: number
  right?: number
}

/**
 * The pair with its sample data and a config dir (`mkdtemp` with `prefix`, the caller removes it)
 * holding connections.yaml with `extra` settings and the example mapping; `simEnv` fills the
 * config's `${NAME}`s.
 */
export async function startSimPair(prefix: string, extra: Parameters<typeof writeSimConfig>[2] = {}, data: PairSeed = {}) {
  const seed = data.seed ?? 5
  const elementum = await startElementum({ port: 0, seed })
  // unlimited: the 60/min key would make each run wait out the rate budget
  const elean = await startElean({ port: 0, seed, perMinute: 0 })
  seedNamespace(elementum.store, 'tasks', 'it-requests', data.left ?? 8, seed)
  elean.store.seed('web', data.right ?? 6, seed)
  settleEleanSeed(elean)
  const dir = await mkdtemp(join(tmpdir(), prefix))
  await copyFile('mappings/it-requests.mapping.yaml', join(dir, 'it-requests.mapping.yaml'))
  const simEnv = await writeSimConfig(dir, { elementum, elean }, { ...extra, elean: { commentsPerScan: 0, ...extra.elean } })
  return { elementum, elean, dir, simEnv }
}

/**
 * Seeded values the mapping cannot carry in one cycle leave work for a second one even without
 * a crash: priority is written left-to-right only, so a task created in Elementum from Elean
 * takes Elementum's default (P3) and the next cycle writes it back as `medium`. Here every Elean
 * task starts as the cycle leaves it. Tasks "In Review" start "In Progress": the mapping carries
 * both to Elementum's "In Progress", but the reliability sweep checks statuses against a
 * one-to-one model of the map (STATUS_TO_RIGHT in test/reliability/sweep.ts).
 */
export function settleEleanSeed(elean: StartedElean): void {
  const project = elean.store.project('web')!
  const inProgress = project.statuses.find((s) => s.name === 'In Progress')!
  const inReview = project.statuses.find((s) => s.name === 'In Review')!
  for (const task of project.topLevel) {
    elean.store.editTask(task, { priority: 'medium', ...(task.statusId === inReview.id ? { statusId: inProgress.id } : {}) }, 'if-changed')
  }
}

/** Write requests elsync has made to either simulator so far. */
export const writeCount = (w: SimPair) => vendorWrites(w.elementum.server.stats()) + vendorWrites(w.elean.server.stats())

/** Titles on each side now, straight from the vendors (Elean trims what it stores). */
export function titles(w: SimPair): { left: string[]; right: string[] } {
  const ns = w.elementum.store.namespace('tasks', 'it-requests')!
  const project = w.elean.store.project('web')!
  return {
    left: ns.order.map((seq) => ns.bySeq.get(seq)!.data.Title!.trim()),
    right: project.topLevel.map((t) => t.title.trim()),
  }
}
