// Merging the host's headers with an answer's, for both adapters: on the path of every probe.

/** Header values as node:http takes them. */
export type HeaderValues = { readonly [name: string]: string | number | readonly string[] | undefined };

/**
 * One object with every source's headers, later sources winning, as `{ ...a, ...b }` would give,
 * but copied key by key into a fresh literal: node:http's writeHead walks the result once more,
 * and walking an object spread costs more on every answer (the figures: docs/performance.md in the repository).
 */
export function mergeHeaders(
  ...sources: readonly (HeaderValues | undefined)[]
): Record<string, string | number | string[]> {
  const merged: Record<string, string | number | string[]> = {};
  for (const source of sources) {
    if (source === undefined) continue;
    for (const name in source) {
      const value = source[name];
      if (value !== undefined) merged[name] = typeof value === 'object' ? [...value] : value;
    }
  }
  return merged;
}
