import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

/** Relative imports (static, `import type`, re-exports and dynamic) of every .ts file under src/. */
function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  const files = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))
  for (const file of files.map((f) => join('src', f))) {
    const text = readFileSync(join(root, file), 'utf8')
    const specifiers = [...text.matchAll(/^(?:import|export)\s[^'"]*?['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/gm)].map((m) => m[1] ?? m[2] ?? '')
    graph.set(
      file,
      specifiers.map((s) => relative(root, resolve(root, dirname(file), s)).replace(/\.js$/, '.ts')),
    )
  }
  return graph
}

/** Every cycle, each as the path from a file back to itself. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = []
  const done = new Set<string>()
  const visit = (file: string, path: string[]): void => {
    const at = path.indexOf(file)
    if (at !== -1) return void found.push([...path.slice(at), file])
    if (done.has(file)) return
    for (const next of graph.get(file) ?? []) visit(next, [...path, file])
    done.add(file)
  }
  for (const file of graph.keys()) visit(file, [])
  return found
}

const graph = importGraph(resolve(import.meta.dirname, '../..'))

describe('module structure', () => {
  it('has no import cycles outside the simulators', () => {
    const outsideSim = new Map([...graph].filter(([file]) => !file.startsWith('src/sim/')))
    expect(cycles(outsideSim)).toEqual([])
  })

  it('keeps main.ts a composition root: only the run and demo commands import it', () => {
    const importers = [...graph].filter(([, deps]) => deps.includes('src/main.ts')).map(([file]) => file)
    expect(importers.sort()).toEqual(['src/cli/demo.ts', 'src/cli/run.ts'])
  })
})
