/** `elsync migrate` — validate the config, apply pending migrations, exit. */
import { parseArgs } from 'node:util'
import { loadContext, openContextDatabase, runCommand } from './context.js'

const USAGE = 'usage: elsync migrate [--config-dir <dir>]\n'

export async function main(argv: readonly string[]): Promise<number> {
  let values
  try {
    ;({ values } = parseArgs({ args: [...argv], options: { 'config-dir': { type: 'string', short: 'c' } }, strict: true }))
  } catch (err) {
    process.stderr.write(`elsync migrate: ${(err as Error).message}\n${USAGE}`)
    return 2
  }
  return runCommand('migrate', async () => {
    const ctx = await loadContext({ configDir: values['config-dir'] })
    const db = await openContextDatabase(ctx, (l) => process.stderr.write(`${l}\n`))
    process.stdout.write(`migrations applied: ${db.displayUrl}\n`)
    await db.close()
    return 0
  })
}
