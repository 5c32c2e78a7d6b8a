/** Polls `probe` until it returns a value; each wait is for the network to make progress, bounded by the test timeout. */
export async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
