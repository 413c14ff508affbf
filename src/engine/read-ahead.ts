/** A source read ahead of its consumer; see `readAhead`. */
export interface ReadAhead<T> extends AsyncGenerator<T, void, undefined> {
  /**
   * Starts the reads ahead of the item the consumer holds now, if they have not started. With
   * `held`, the consumer calls it at the moment its own work on the item leaves the CPU free (a
   * page's write sent to the database); without it, the reads start as each item is handed over.
   */
  readOn(): void
}

/**
 * Reads a source `depth` items ahead of its consumer: while the consumer handles item n (a
 * page being saved), items up to n + depth are already being read (the next page's request).
 *
 * Bounded and explicit, never timing-dependent: the source is asked for item n + depth + 1 only
 * once the consumer is done with item n, so a run makes the same requests in the same order
 * whatever the speed of either side, and at most `depth` items more than the consumer took when
 * it stops early. Items keep their order, and an error of the source surfaces after every item read
 * before it, exactly where a plain `for await` would have met it. When the consumer stops (it
 * failed, or broke out), the source is closed after the reads in flight settle.
 *
 * `held`: the reads ahead of item n start when the consumer calls `readOn()` while it holds item
 * n, or at the latest when it asks for item n + 1. The requests and their order are the same; only
 * when the work of reading falls changes. A run saving pages uses it so that the next page is
 * parsed while the database writes this one, not while this page's first statements wait for
 * their answers on a busy event loop (issue 13).
 */
export function readAhead<T>(source: AsyncIterable<T>, depth: number, opts: { held?: boolean } = {}): ReadAhead<T> {
  const it = source[Symbol.asyncIterator]()
  const pending: Promise<IteratorResult<T>>[] = []
  let ended = false
  let open = true
  const request = (): void => {
    const next = it.next()
    // settled here too, so that a read failing before the consumer reaches it is never unhandled
    next.then(
      (r) => void (r.done && (ended = true)),
      () => void (ended = true),
    )
    pending.push(next)
  }
  const readOn = (): void => {
    while (open && !ended && pending.length < depth) request()
  }
  async function* items(): AsyncGenerator<T, void, undefined> {
    try {
      for (;;) {
        if (!ended && pending.length === 0) request()
        const head = pending.shift()
        if (head === undefined) return
        if (!opts.held) readOn()
        const result = await head
        if (result.done) return
        yield result.value
      }
    } finally {
      open = false
      await Promise.allSettled(pending)
      await it.return?.()
    }
  }
  return Object.assign(items(), { readOn })
}
