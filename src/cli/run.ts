/** `elsync run` — the daemon: migrate, schedule polls, serve the admin API, until SIGTERM. */
import { startDaemon } from '../main.js'
import { parseCommandArgs } from './args.js'
import { loadContext, runCommand } from './context.js'
import { untilStopSignal } from './signals.js'

const USAGE = 'usage: elsync run [--config-dir <dir>]\n'

/** Resolves on the first SIGINT or SIGTERM; a second one, a second or more later, quits at once. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return untilStopSignal({ onForce: (sig) => process.stderr.write(`${sig} received again: quitting without waiting\n`) })
}

export async function main(argv: readonly string[]): Promise<number> {
  const values = parseCommandArgs('run', argv, { 'config-dir': { type: 'string', short: 'c' } }, USAGE)
  if (!values) return 2
  return runCommand('run', async () => {
    const ctx = await loadContext({ configDir: values['config-dir'] })
    const daemon = await startDaemon(ctx, { say: (l) => process.stderr.write(`${l}\n`) })
    if (daemon.db.embedded) process.stdout.write(`analysts: psql '${daemon.db.url}'\n`)
    process.stdout.write(`admin API: ${daemon.adminUrl}\n`)
    if (!ctx.env.adminToken) process.stdout.write(`admin token (generated, shown once; set ELSYNC_ADMIN_TOKEN to choose one): ${daemon.adminToken}\n`)
    const sig = await untilSignal()
    process.stderr.write(`${sig} received: stopping (again to quit at once)\n`)
    await daemon.stop()
    return 0
  })
}
