/**
 * `elsync sync [--connection C] [--stream S] [--full] [--dry-run]` — one pass over the
 * selected streams, a progress line per page saved (per five in a full scan) and a summary. Exit 0 when every stream
 * succeeded, 1 when any failed, 2 for invalid config or usage.
 */
import { type App, allStreams, createApp, reconcileLines, summaryLine } from '../app.js'
import { processEnv } from '../config/env.js'
import type { Config } from '../config/schema.js'
import { InterruptedError } from '../engine/errors.js'
import type { PageProgress, StreamRunResult } from '../engine/poll.js'
import type { StreamRef } from '../engine/types.js'
import type { WaitEvent } from '../http/types.js'
import { waitLine } from '../http/wait-line.js'
import { plural } from '../text.js'
import { parseCommandArgs } from './args.js'
import { loadContext, openContextDatabase, runCommand } from './context.js'
import { ExitError } from './errors.js'
import { onStopSignal } from './signals.js'

const USAGE = `usage: elsync sync [--connection <name>] [--stream <name>] [--full] [--confirm-deletes] [--dry-run] [--config-dir <dir>]

One cycle, then exit: poll the selected streams (all by default), reconcile the mappings
that have a side on them, and push the writes that are due.
  --connection  only this connection
  --stream      only this stream (with --connection, or unique across connections)
  --full        full scan instead of incremental (detects deletions)
  --confirm-deletes  an admin's confirmation: delete what this full scan did not see at once,
                even above massDeleteFraction (use after a refused mass delete)
  --dry-run     poll and mirror as usual, then plan: reconcile in a transaction that is rolled
                back, print one line per write it would make, and write nothing to any vendor

A stream, mapping or claimed write that another elsync process holds is waited for, up to
twice ELSYNC_LEASE_SECONDS: a live process lets go when it is done, a dead one's lease runs
out. Whatever is still held then is skipped, and the exit status is 1.
`

/** The streams a selection names; an unknown connection or stream is a usage error. */
export function selectStreams(config: Config, connection?: string, stream?: string): StreamRef[] {
  if (connection !== undefined && !Object.hasOwn(config.connections, connection)) {
    throw new ExitError(2, `unknown connection "${connection}" (known: ${Object.keys(config.connections).join(', ') || 'none'})`)
  }
  const picked = allStreams(config).filter((s) => (connection === undefined || s.connection === connection) && (stream === undefined || s.stream === stream))
  if (stream !== undefined && picked.length === 0) throw new ExitError(2, `unknown stream "${stream}"${connection ? ` on connection "${connection}"` : ''}`)
  return picked
}

/** How long a sync waits for a stream, mapping or write another process holds, in leases (ELSYNC_LEASE_SECONDS). */
const BUSY_WAIT_LEASES = 2

export function progressLine(p: PageProgress): string {
  const budget = p.budgetLeft === null ? 'unlimited' : String(p.budgetLeft)
  const pages = p.firstPage === p.page ? `page ${p.page}` : `pages ${p.firstPage}–${p.page}`
  return `${p.stream.connection}/${p.stream.stream} ${pages}: ${plural(p.records, 'record')}, ${p.changed} changed, ${plural(p.requests, 'request')}, rate budget left ${budget}\n`
}

export function summaryLines(results: readonly StreamRunResult[]): string {
  // every stream skipped as busy: the skipped lines say it all
  if (results.length === 0) return ''
  const succeeded = results.filter((r) => r.status === 'succeeded').length
  const interrupted = results.filter((r) => r.status === 'interrupted').length
  const total = `${succeeded} of ${plural(results.length, 'stream')} succeeded${interrupted ? `, ${interrupted} interrupted` : ''}`
  return `${results.map(summaryLine).join('\n')}\n${total}\n`
}

export async function main(argv: readonly string[]): Promise<number> {
  const values = parseCommandArgs(
    'sync',
    argv,
    {
      connection: { type: 'string' },
      stream: { type: 'string' },
      full: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      'confirm-deletes': { type: 'boolean', default: false },
      'config-dir': { type: 'string', short: 'c' },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  )
  if (!values) return 2
  if (values.help) return (process.stdout.write(USAGE), 0)
  return runCommand('sync', async () => {
    // its own lines say what happens (pages, waits, the summary): the log adds warnings and errors unless LOG_LEVEL asks for more
    const ctx = await loadContext({ configDir: values['config-dir'], extraEnv: { LOG_LEVEL: processEnv().LOG_LEVEL || 'warn' } })
    const selection = selectStreams(ctx.config, values.connection, values.stream)
    if (selection.length === 0) {
      process.stdout.write('no streams configured: nothing to sync\n')
      return 0
    }
    if (values['dry-run']) process.stdout.write('dry run: nothing is written to any vendor; the mirror is updated as usual\n')
    const db = await openContextDatabase(ctx, (l) => process.stderr.write(`${l}\n`))
    const controller = new AbortController()
    // a run cut short is recorded as interrupted; a second signal ends the process at once
    const offSignals = onStopSignal((sig) => {
      process.stderr.write(`${sig} received: stopping after the current request (again to quit at once)\n`)
      controller.abort(new InterruptedError(`stopped by ${sig}`))
    })
    let app: App | undefined
    try {
      // a long wait (Retry-After, a retried refused connection) gets a line beside the progress lines
      const onWait = (e: WaitEvent) => {
        const line = waitLine(e)
        if (line) process.stdout.write(`${line}\n`)
      }
      app = createApp(ctx, { db, streams: selection, onWait })
      // work another process holds (a daemon's run, or a dead process's lease) is waited for: a
      // live holder lets go when it is done, a dead one's lease runs out within one lease
      const waitMs = BUSY_WAIT_LEASES * app.leaseMs
      const waitSeconds = Math.round(waitMs / 1000)
      const waitForBusy = {
        ms: waitMs,
        onWaiting: (what: string) => process.stdout.write(`waiting for ${what}: another elsync process holds it (up to ${waitSeconds} s)\n`),
      }
      let busy = 0
      const results = await app.pollPass({
        waitForBusy,
        mode: values.full ? 'full' : 'incremental',
        signal: controller.signal,
        source: values.full ? 'resync' : 'poll',
        forceDelete: values['confirm-deletes'],
        onPage: (p) => process.stdout.write(progressLine(p)),
        // still held when the wait ran out: the stream is skipped, and the sync did not do its job
        onBusy: (s) => {
          busy += 1
          process.stdout.write(`skipped ${s.connection}/${s.stream}: another elsync process is still running it after ${waitSeconds} s\n`)
        },
      })
      process.stdout.write(summaryLines(results))
      if (busy) process.stdout.write(`${plural(busy, 'stream')} skipped: busy in another process\n`)
      const dryRun = values['dry-run']
      const reconciled = await app.reconcilePass({
        signal: controller.signal,
        dryRun,
        waitForBusy,
        ...(values.connection ? { connection: values.connection } : {}),
      })
      for (const r of reconciled) process.stdout.write(reconcileLines(r, dryRun))
      let pushFailed = false
      if (!dryRun && reconciled.length > 0) {
        const pushed = await app.executor.drain(controller.signal, {
          waitForHeld: {
            ms: waitMs,
            onWaiting: (n) => process.stdout.write(`waiting for ${plural(n, 'write')} another elsync process has claimed (up to ${waitSeconds} s)\n`),
          },
        })
        const held = pushed.held ? `, ${pushed.held} still held by another elsync process` : ''
        process.stdout.write(
          `pushed: ${pushed.sent} sent, ${pushed.failed} to retry, ${pushed.dead} dead${pushed.deferred ? `, ${pushed.deferred} deferred` : ''}${held}\n`,
        )
        // a write to retry later is not a failure of this cycle; one parked as dead needs an admin, one still held was not done
        pushFailed = pushed.dead > 0 || (pushed.held ?? 0) > 0
      }
      const ok = busy === 0 && results.every((r) => r.status === 'succeeded') && reconciled.every((r) => r.error === null && !r.busy) && !pushFailed
      return ok ? 0 : 1
    } finally {
      offSignals()
      await app?.close()
      await db.close()
    }
  })
}
