// Bounded waits for the package's own tests (the package stands alone: it cannot import the
// service's test/helpers). Every wait names what it waited for when its deadline passes.

/** Settles as promise does, or rejects once ms have passed, naming what was awaited. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Reads every 10 ms until the value read holds; rejects after ms with what and the last value seen.
 * With a type guard for holds, resolves with the narrowed value.
 */
export async function waitUntil<T, S extends T>(
  read: () => T,
  holds: (value: T) => value is S,
  ms: number,
  what: string,
): Promise<S>;
export async function waitUntil<T>(read: () => T, holds: (value: T) => boolean, ms: number, what: string): Promise<T>;
export async function waitUntil<T>(read: () => T, holds: (value: T) => boolean, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = read();
    if (holds(value)) return value;
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${JSON.stringify(value)})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
