/** A promise and the function that resolves it, for tests that hold one party at a step until another has acted. */
export function deferred() {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}
