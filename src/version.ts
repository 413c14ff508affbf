import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * elsync's version from its package.json, the nearest one named elsync above `from`: this file
 * runs from src under tsx and from dist/src once built, so the distance differs.
 */
export function packageVersion(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json')
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown }
      if (pkg.name === 'elsync' && typeof pkg.version === 'string') return pkg.version
    }
    if (dirname(dir) === dir) return 'unknown'
  }
}
