/** Polls `probe` until it returns a value other than undefined, or throws naming `what` after `withinMs`. */
export async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, withinMs = 30_000): Promise<T> {
  const deadline = Date.now() + withinMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
