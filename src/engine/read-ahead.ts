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
 */
export async function* readAhead<T>(source: AsyncIterable<T>, depth: number): AsyncGenerator<T, void, undefined> {
  const it = source[Symbol.asyncIterator]()
  const pending: Promise<IteratorResult<T>>[] = []
  let ended = false
  const request = (): void => {
    const next = it.next()
    // settled here too, so that a read failing before the consumer reaches it is never unhandled
    next.then(
      (r) => void (r.done && (ended = true)),
      () => void (ended = true),
    )
    pending.push(next)
  }
  try {
    for (;;) {
      while (!ended && pending.length <= depth) request()
      const head = pending.shift()
      if (head === undefined) return
      const result = await head
      if (result.done) return
      yield result.value
    }
  } finally {
    await Promise.allSettled(pending)
    await it.return?.()
  }
}
