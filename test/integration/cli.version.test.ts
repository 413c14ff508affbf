import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { packageVersion } from '../../src/cli/dispatch.js'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '../..')
const { version } = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { version: string }

describe('elsync --version', () => {
  it("prints package.json's version and exits 0", async () => {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', '--version'], { cwd: root, timeout: 60_000 })
    expect({ stdout, stderr }).toEqual({ stdout: `${version}\n`, stderr: '' })
  })

  it('finds package.json from the built entry point too (dist/src/cli)', () => {
    expect(packageVersion(resolve(root, 'dist/src/cli'))).toBe(version)
    expect(packageVersion(resolve(root, 'src/cli'))).toBe(version)
  })
})
