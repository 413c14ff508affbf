/** Option parsing shared by the CLI commands. */
import { parseArgs, type ParseArgsConfig } from 'node:util'

type Options = NonNullable<ParseArgsConfig['options']>

/**
 * A command's options, parsed strictly (no positionals). On a usage error, writes
 * `elsync <command>: <problem>` and the usage to stderr and returns undefined: exit 2.
 */
export function parseCommandArgs<const O extends Options>(command: string, argv: readonly string[], options: O, usage: string) {
  try {
    return parseArgs({ args: [...argv], options, strict: true }).values
  } catch (err) {
    process.stderr.write(`elsync ${command}: ${err instanceof Error ? err.message : String(err)}\n${usage}`)
    return undefined
  }
}
