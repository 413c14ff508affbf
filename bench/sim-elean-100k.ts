/**
 * Elean simulator at 100k tasks: seed time, and the time to read every task with
 * limit=100 over HTTP (one request at a time, as a connector pages). Prints one JSON line.
 *
 *   npx tsx bench/sim-elean-100k.ts [count]
 */
import { startElean } from '../src/sim/elean/index.js'

const count = Number(process.argv[2] ?? 100_000)
const sim = await startElean({ port: 0, perMinute: 0 })
const headers = { authorization: `Bearer ${sim.credentials.apiKey}` }

try {
  let t0 = performance.now()
  const seeded = await fetch(`${sim.server.url}/_sim/seed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ project: 'bench', count }),
  })
  if (seeded.status !== 201) throw new Error(`seed failed: ${seeded.status} ${await seeded.text()}`)
  const seedMs = performance.now() - t0

  t0 = performance.now()
  const seen = new Set<string>()
  let pages = 0
  for (let page = 1; ; page++) {
    const res = await fetch(`${sim.baseUrl}/bench/tasks?limit=100&page=${page}`, { headers })
    if (res.status !== 200) throw new Error(`page ${page}: ${res.status} ${await res.text()}`)
    const body = (await res.json()) as { tasks: { id: string }[]; meta: { hasMore: boolean } }
    pages += 1
    for (const t of body.tasks) seen.add(t.id)
    if (!body.meta.hasMore) break
  }
  const readMs = performance.now() - t0
  if (seen.size !== count) throw new Error(`read ${seen.size} distinct tasks, expected ${count}`)

  const mem = process.memoryUsage()
  const mb = (n: number): number => Math.round((n / 1024 / 1024) * 10) / 10
  console.log(
    JSON.stringify({
      figure: 'sim_elean_100k',
      tasks: count,
      seedMs: Math.round(seedMs),
      readMs: Math.round(readMs),
      pages,
      rssMb: mb(mem.rss),
      heapMb: mb(mem.heapUsed),
    }),
  )
} finally {
  await sim.close()
}
