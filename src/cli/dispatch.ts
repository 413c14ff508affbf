/**
 * The `elsync <command>` table. Each command is a module `./<name>.js` exporting
 * `main(argv): Promise<number>` (the exit status), imported only when run so that `check`
 * never loads the database driver.
 */
import { parseArgs } from 'node:util'
import { packageVersion } from '../version.js'

export interface CommandModule {
  main(argv: readonly string[]): Promise<number>
}

interface Command {
  readonly summary: string
  readonly load: () => Promise<unknown>
}

/** A variable specifier: modules written by other commands' owners need not exist to type-check this file. */
const importCommand = (name: string): Promise<unknown> => import(/* @vite-ignore */ `./${name}.js`)

export const COMMANDS: Readonly<Record<string, Command>> = {
  run: { summary: 'the daemon: migrate, poll on schedule, serve health and metrics (reconcile and push are not built yet)', load: () => importCommand('run') },
  sync: { summary: 'one poll of the selected streams, then exit (reconcile and push are not built yet)', load: () => importCommand('sync') },
  check: { summary: 'validate config and test every connection', load: () => import('./check.js') },
  migrate: { summary: 'apply database migrations and exit', load: () => importCommand('migrate') },
  sim: { summary: 'start the API simulators on loopback', load: () => importCommand('sim') },
  demo: { summary: 'embedded Postgres + simulators + example mappings + the daemon', load: () => importCommand('demo') },
}

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length))
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  return `usage: elsync <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun elsync <command> --help for a command's options, elsync --version for the version.\n`
}

export { packageVersion } from '../version.js'

export interface DispatchOutput {
  readonly stdout: { write(text: string): unknown }
  readonly stderr: { write(text: string): unknown }
}

function isCommandModule(mod: unknown): mod is CommandModule {
  return typeof (mod as { main?: unknown } | null)?.main === 'function'
}

/** Runs `argv` (without node and script) and resolves to the exit status. */
export async function dispatch(argv: readonly string[], out: DispatchOutput = process): Promise<number> {
  const { tokens } = parseArgs({ args: [...argv], strict: false, allowPositionals: true, tokens: true })
  const first = tokens.find((t) => t.kind === 'positional' || t.kind === 'option-terminator')
  const commandAt = first?.kind === 'positional' ? first.index : -1
  const name = commandAt === -1 ? undefined : argv[commandAt]
  const wantsHelp = argv.slice(0, commandAt === -1 ? argv.length : commandAt).some((a) => a === '-h' || a === '--help')

  if (name === undefined && argv.some((a) => a === '--version' || a === '-v')) {
    out.stdout.write(`${packageVersion()}\n`)
    return 0
  }
  if (name === undefined || name === 'help') {
    ;(wantsHelp || name === 'help' ? out.stdout : out.stderr).write(usage())
    return wantsHelp || name === 'help' ? 0 : 2
  }
  if (commandAt > 0) {
    out.stderr.write(`elsync: options go after the command: ${argv.slice(0, commandAt).join(' ')}\n${usage()}`)
    return 2
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
  if (!command) {
    out.stderr.write(`elsync: unknown command "${name}"\n${usage()}`)
    return 2
  }

  let mod: unknown
  try {
    mod = await command.load()
  } catch (err) {
    const code = (err as { code?: unknown }).code
    const missing = code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(`/cli/${name}.`)
    out.stderr.write(
      missing
        ? `elsync: command "${name}" is not available in this build\n`
        : `elsync ${name}: failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
    )
    return 1
  }
  if (!isCommandModule(mod)) {
    out.stderr.write(`elsync: command "${name}" does not export main(argv)\n`)
    return 1
  }
  try {
    return await mod.main(argv.slice(commandAt + 1))
  } catch (err) {
    out.stderr.write(`elsync ${name}: ${err instanceof Error ? err.message : String(err)}\n`)
    return 1
  }
}
