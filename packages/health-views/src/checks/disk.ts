// Free disk space of a path (the file system it is on, from fs.statfs) against a floor in bytes,
// a fraction of the total, or both: DOWN before writes start failing. Free means what this process
// may use (statfs's bavail, as df's "Avail"), not the blocks reserved for root.

import {
  checkOptionNames,
  definePolledCheck,
  formatBytes,
  messageOf,
  numberOption,
  requiredString,
  someLimit,
  type BuiltInCheck,
  type BuiltInCheckOptions,
} from './options.js';

export interface DiskCheckOptions<Name extends string = string> extends BuiltInCheckOptions<Name> {
  /** A file or directory on the file system to watch. */
  readonly path: string;
  /** Free bytes below which the check is DOWN. */
  readonly minFreeBytes?: number;
  /** Free space as a fraction of the total (above 0, at most 1) below which the check is DOWN. */
  readonly minFreeFraction?: number;
}

const DEFAULTS = {
  name: 'disk',
  intervalMs: 10_000,
  timeoutMs: 2000,
  publicCause: 'free disk space is below its limit',
};

/** DOWN when free space is below a floor (give either or both), or the path cannot be read; the cause names both figures. */
export function diskCheck<const Name extends string = 'disk'>(options: DiskCheckOptions<Name>): BuiltInCheck<Name> {
  const where = checkOptionNames('diskCheck', options, ['path', 'minFreeBytes', 'minFreeFraction']);
  requiredString(where, 'path', options.path);
  someLimit(where, options, ['minFreeBytes', 'minFreeFraction']);
  numberOption(where, 'minFreeBytes', options.minFreeBytes, { min: 1, whole: true });
  numberOption(where, 'minFreeFraction', options.minFreeFraction, { min: 0, max: 1, above: true });
  const { path, minFreeBytes, minFreeFraction } = options;

  async function run(): Promise<void> {
    let stats;
    try {
      // Loaded at the first run: importing the package loads no module a service's checks do not use.
      const { statfs } = await import('node:fs/promises');
      stats = await statfs(path);
    } catch (error) {
      throw new Error(`cannot read the free space of ${path}: ${messageOf(error)}`, { cause: error });
    }
    const free = stats.bavail * stats.bsize;
    const total = stats.blocks * stats.bsize;
    const fraction = total === 0 ? 0 : free / total;
    const below: string[] = [];
    if (minFreeBytes !== undefined && free < minFreeBytes) below.push(`minFreeBytes ${formatBytes(minFreeBytes)}`);
    if (minFreeFraction !== undefined && fraction < minFreeFraction) {
      below.push(`minFreeFraction ${percent(minFreeFraction)}`);
    }
    if (below.length > 0) {
      const figures = `${formatBytes(free)} (${percent(fraction)} of ${formatBytes(total)})`;
      throw new Error(`free space of ${path} is ${figures}, below ${below.join(' and ')}`);
    }
  }
  return definePolledCheck(options, DEFAULTS, run);
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}
