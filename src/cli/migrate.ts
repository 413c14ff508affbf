/** `elsync migrate` — validate the config, apply pending migrations, exit. */
import { parseCommandArgs } from './args.js'
import { loadContext, openContextDatabase, runCommand } from './context.js'

const USAGE = 'usage: elsync migrate [--config-dir <dir>]\n'

export async function main(argv: readonly string[]): Promise<number> {
  const values = parseCommandArgs('migrate', argv, { 'config-dir': { type: 'string', short: 'c' } }, USAGE)
  if (!values) return 2
  return runCommand('migrate', async () => {
    const ctx = await loadContext({ configDir: values['config-dir'] })
    const db = await openContextDatabase(ctx, (l) => process.stderr.write(`${l}\n`))
    process.stdout.write(`migrations applied: ${db.displayUrl}\n`)
    await db.close()
    return 0
  })
}
