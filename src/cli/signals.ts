import { constants } from 'node:os'

/**
 * The stop signals of a command. The first SIGINT or SIGTERM asks for a graceful stop. A
 * handler then stays installed until the command is done, because copies of that signal
 * follow: a terminal's Ctrl-C and a process manager reach the whole process group, npm
 * forwards the signal to its script and the tsx runner relays it to its child. A copy finding
 * no handler would end the process mid-shutdown with status 128+n. So a repeat within
 * `graceMs` of the first is taken as a copy; a later one quits at once.
 */
export interface StopSignalOptions {
  /** Called on a second signal, just before the process exits with 128+n. */
  onForce?: (sig: NodeJS.Signals) => void
  graceMs?: number
}

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM']

/** Calls `onStop` on the first stop signal; returns a function that removes the handlers. */
export function onStopSignal(onStop: (sig: NodeJS.Signals) => void, opts: StopSignalOptions = {}): () => void {
  const graceMs = opts.graceMs ?? 1_000
  let first: number | undefined
  const on = (sig: NodeJS.Signals): void => {
    if (first === undefined) {
      first = Date.now()
      onStop(sig)
      return
    }
    if (Date.now() - first < graceMs) return
    opts.onForce?.(sig)
    process.exit(128 + (constants.signals[sig] ?? 0))
  }
  for (const sig of STOP_SIGNALS) process.on(sig, on)
  return () => {
    for (const sig of STOP_SIGNALS) process.off(sig, on)
  }
}

/** Resolves on the first stop signal; the handlers stay for the rest of the process. */
export function untilStopSignal(opts: StopSignalOptions = {}): Promise<NodeJS.Signals> {
  return new Promise((resolve) => void onStopSignal(resolve, opts))
}
