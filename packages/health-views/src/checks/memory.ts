// Heap used and resident set size against limits: DOWN when the process holds more memory than it
// should (a leak, a cache without a bound), before the kernel or the orchestrator kills it. Both
// figures come from one process.memoryUsage() call, recorded at once (no promise, no timer).

import {
  checkOptionNames,
  definePolledCheck,
  formatBytes,
  numberOption,
  someLimit,
  type BuiltInCheck,
  type BuiltInCheckOptions,
} from './options.js';

export interface MemoryCheckOptions<Name extends string = string> extends BuiltInCheckOptions<Name> {
  /** V8 heap in use (`process.memoryUsage().heapUsed`) above which the check is DOWN, in bytes. */
  readonly maxHeapUsedBytes?: number;
  /** Resident set size (`process.memoryUsage().rss`) above which the check is DOWN, in bytes. */
  readonly maxRssBytes?: number;
}

const DEFAULTS = { name: 'memory', intervalMs: 5000, timeoutMs: 1000, publicCause: 'memory use is over its limit' };
const LIMITS = ['maxHeapUsedBytes', 'maxRssBytes'];

/** DOWN when a figure is above its limit (give either or both); the cause names each figure and limit. */
export function memoryCheck<const Name extends string = 'memory'>(
  options: MemoryCheckOptions<Name>,
): BuiltInCheck<Name> {
  const where = checkOptionNames('memoryCheck', options, LIMITS);
  someLimit(where, options, LIMITS);
  for (const limit of LIMITS)
    numberOption(where, limit, options[limit as keyof typeof options], { min: 1, whole: true });
  const { maxHeapUsedBytes, maxRssBytes } = options;
  const run = (): void => {
    const { heapUsed, rss } = process.memoryUsage();
    const over: string[] = [];
    if (maxHeapUsedBytes !== undefined && heapUsed > maxHeapUsedBytes) {
      over.push(`heap used ${formatBytes(heapUsed)} exceeds maxHeapUsedBytes ${formatBytes(maxHeapUsedBytes)}`);
    }
    if (maxRssBytes !== undefined && rss > maxRssBytes) {
      over.push(`RSS ${formatBytes(rss)} exceeds maxRssBytes ${formatBytes(maxRssBytes)}`);
    }
    if (over.length > 0) throw new Error(over.join('; '));
  };
  return definePolledCheck(options, DEFAULTS, run);
}
