// Where the service's time goes under load: runs the built service with --cpu-prof on the service
// core, loads one endpoint from the load core, stops it with SIGTERM (the profile is written at
// exit) and lists the functions with the most self time, and the same grouped by package.
// bench/run.ts calls profileEndpoint() with --profile, or when a throughput target is missed; alone:
//
//   node --import tsx bench/profile.ts [--endpoint accounts|health] [--seconds 10] [--top 25] [--keep DIR] [--env NAME=VALUE,...]

import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCliOptions } from './cli.js';
import { createLoadTool, type LoadTool } from './measure.js';
import {
  ENDPOINTS,
  ProcessGroup,
  ROOT,
  SERVICE_MAIN_UNBUNDLED,
  createPinning,
  endpointPaths,
  scratchDir,
  startService,
  type Pinning,
} from './processes.js';
import type { ProfileSummary } from './results.js';

interface CpuProfile {
  readonly startTime: number;
  readonly samples: number[];
  readonly timeDeltas: number[];
  readonly nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
}

export interface ProfileRequest {
  readonly paths: readonly string[];
  readonly seconds: number;
  readonly warmupS?: number;
  readonly top?: number;
  /** Keep the .cpuprofile in this directory (else it is removed). */
  readonly dir?: string | undefined;
  readonly env?: Record<string, string>;
}

/**
 * Profiles the service under `seconds` of load on paths, after a warm-up. Resolves with req/s
 * under the profiler and the summary of the samples taken during the measured load.
 */
export async function profileEndpoint(
  group: ProcessGroup,
  pinning: Pinning,
  tool: LoadTool,
  { paths, seconds, warmupS = 2, top = 25, dir, env = {} }: ProfileRequest,
): Promise<ProfileSummary & { file?: string }> {
  const scratch = dir === undefined ? scratchDir() : { dir, remove: () => {} };
  mkdirSync(scratch.dir, { recursive: true });
  try {
    // The unbundled build: the same code as the bundle, in files that say which package each function is from.
    const service = await startService(group, pinning, {
      main: SERVICE_MAIN_UNBUNDLED,
      nodeArgs: ['--cpu-prof', '--cpu-prof-dir', scratch.dir],
      label: 'profiled service',
      env,
    });
    await tool.run({ baseUrl: service.url, paths, durationS: warmupS });
    // V8's profile clock is the system's monotonic clock in µs, as process.hrtime is in ns: only the
    // samples taken during the measured load count (not start-up, warm-up or shutdown).
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const load = await tool.run({ baseUrl: service.url, paths, durationS: seconds });
    const toUs = Number(process.hrtime.bigint() / 1000n);
    await service.stop();
    const file = readdirSync(scratch.dir).find((name) => name.endsWith('.cpuprofile'));
    if (file === undefined) throw new Error(`no .cpuprofile written in ${scratch.dir}`);
    const profile = JSON.parse(readFileSync(join(scratch.dir, file), 'utf8')) as CpuProfile;
    return {
      rps: load.rps,
      seconds,
      ...(dir === undefined ? {} : { file: join(scratch.dir, file) }),
      ...summarise(profile, top, { fromUs, toUs }),
    };
  } finally {
    scratch.remove();
  }
}

/**
 * Self time per function and per package, as a share of the samples in which the process was
 * busy ((idle) left out, so the shares add up to the work done), within window when given.
 */
export function summarise(
  profile: CpuProfile,
  limit: number,
  window = { fromUs: -Infinity, toUs: Infinity },
): Pick<ProfileSummary, 'busySamples' | 'topFunctions' | 'byPackage'> {
  const hits = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (at >= window.fromUs && at <= window.toUs) hits.set(id, (hits.get(id) ?? 0) + 1);
  });
  const busy = profile.nodes.filter((node) => node.callFrame.functionName !== '(idle)' && hits.has(node.id));
  const total = busy.reduce((sum, node) => sum + hits.get(node.id)!, 0);
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const node of busy) {
    const count = hits.get(node.id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url === '' ? '' : `${shorten(url)}:${lineNumber + 1}`;
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + count);
    const pkg = packageOf(url, functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + count);
  }
  const ranked = (map: Map<string, number>): { name: string; percent: number }[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, count]) => ({ name, percent: Math.round((1000 * count) / total) / 10 }));
  return { busySamples: total, topFunctions: ranked(byFunction), byPackage: ranked(byPackage) };
}

function shorten(url: string): string {
  return url.replace(`file://${ROOT}`, '').replace(/^.*node_modules\//, 'node_modules/');
}

function packageOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native: syscalls, V8 builtins)';
  if (url.startsWith('node:')) return 'node: internals (http, net, streams, events)';
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1]!;
  if (url.includes('/dist/src/')) return 'accountservice (dist/src)';
  return url;
}

export function formatSummary(summary: Pick<ProfileSummary, 'topFunctions' | 'byPackage'>): string {
  const lines = (list: { name: string; percent: number }[]): string => list.map(({ name, percent }) => `${percent.toFixed(1).padStart(5)}%  ${name}`).join('\n');
  return `Top self time by function (share of busy samples):\n${lines(summary.topFunctions)}\n\nSelf time by package:\n${lines(summary.byPackage)}\n`;
}

/** NAME=VALUE pairs separated by commas, split at the first "=" (a value may hold more). */
export function parseEnvPairs(text: string, usage: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of text.split(',').filter((item) => item !== '')) {
    const at = pair.indexOf('=');
    if (at < 1) {
      process.stderr.write(`--env wants NAME=VALUE pairs separated by commas (got ${pair})\nusage: ${usage}\n`);
      process.exit(2);
    }
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const USAGE = 'node --import tsx bench/profile.ts [--endpoint accounts|health] [--seconds 10] [--top 25] [--keep DIR] [--env NAME=VALUE,...]';
  const options = parseCliOptions(
    process.argv.slice(2),
    {
      endpoint: { fallback: 'accounts', oneOf: ENDPOINTS },
      seconds: { whole: true, fallback: 10 },
      top: { whole: true, fallback: 25 },
      keep: {},
      env: { fallback: '' },
    },
    USAGE,
  );
  const pinning = createPinning(availableParallelism());
  pinning.pinSelf();
  const group = new ProcessGroup();
  try {
    const endpoint = options.endpoint as (typeof ENDPOINTS)[number];
    const paths = await endpointPaths(endpoint);
    const tool = createLoadTool(undefined, pinning, group);
    const summary = await profileEndpoint(group, pinning, tool, {
      paths,
      seconds: options.seconds,
      top: options.top,
      dir: options.keep === undefined ? undefined : resolve(options.keep),
      env: parseEnvPairs(options.env, USAGE),
    });
    process.stdout.write(`${endpoint}: ${Math.round(summary.rps)} req/s under the profiler (${tool.name}, ${options.seconds} s)\n\n`);
    process.stdout.write(formatSummary(summary));
    if (summary.file !== undefined) process.stdout.write(`\nprofile kept: ${summary.file}\n`);
  } finally {
    await group.stopAll();
  }
}
