// Bounded waits for the package's tests (its tests cannot import the repository's test helpers:
// they stay inside the package).

/** Resolves with the first value of check() that is neither undefined nor false; rejects after ms. */
export async function until<T>(check: () => T | undefined | false, what: string, ms = 5000): Promise<T> {
  const giveUpAt = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > giveUpAt) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resolves or rejects as the promise does, or rejects after ms naming what was awaited. */
export async function within<T>(promise: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
