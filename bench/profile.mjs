#!/usr/bin/env node
// Where the service's time goes under load: runs the built service with --cpu-prof on the service
// core, loads one endpoint from the load core, stops it with SIGTERM (the profile is written at
// exit) and lists the functions with the most self time, and the same grouped by package.
// bench/run.mjs calls profileEndpoint() when a throughput target is missed; alone:
//
//   node bench/profile.mjs [--endpoint accounts|health] [--seconds 10] [--top 25] [--keep DIR]

import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENDPOINTS, ProcessGroup, ROOT, SERVICE_MAIN_UNBUNDLED, createLoadTool, createPinning, endpointPaths, parseCliOptions, scratchDir, startService } from './lib.mjs';

/**
 * Profiles the service under `seconds` of load on paths, after a warm-up. Resolves with req/s
 * under the profiler and the summary of the samples taken during the measured load.
 */
export async function profileEndpoint(group, pinning, tool, { paths, seconds, warmupS = 2, top = 25, dir }) {
  const scratch = dir === undefined ? scratchDir() : { dir, remove: () => {} };
  mkdirSync(scratch.dir, { recursive: true });
  try {
    // The unbundled build: the same code as the bundle, in files that say which package each function is from.
    const service = await startService(group, pinning, {
      main: SERVICE_MAIN_UNBUNDLED,
      nodeArgs: ['--cpu-prof', '--cpu-prof-dir', scratch.dir],
      label: 'profiled service',
    });
    await tool.run({ baseUrl: service.url, paths, durationS: warmupS, connections: 64 });
    // V8's profile clock is the system's monotonic clock in µs, as process.hrtime is in ns: only the
    // samples taken during the measured load count (not start-up, warm-up or shutdown).
    const window = { fromUs: Number(process.hrtime.bigint() / 1000n) };
    const load = await tool.run({ baseUrl: service.url, paths, durationS: seconds, connections: 64 });
    window.toUs = Number(process.hrtime.bigint() / 1000n);
    await service.stop();
    const file = readdirSync(scratch.dir).find((name) => name.endsWith('.cpuprofile'));
    if (file === undefined) throw new Error(`no .cpuprofile written in ${scratch.dir}`);
    const profile = JSON.parse(readFileSync(join(scratch.dir, file), 'utf8'));
    return { rps: load.rps, seconds, file: dir === undefined ? undefined : join(scratch.dir, file), ...summarise(profile, top, window) };
  } finally {
    scratch.remove();
  }
}

/**
 * Self time per function and per package, as a share of the samples in which the process was
 * busy ((idle) left out, so the shares add up to the work done), within window when given.
 */
export function summarise(profile, limit, window = { fromUs: -Infinity, toUs: Infinity }) {
  const hits = new Map();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (at >= window.fromUs && at <= window.toUs) hits.set(id, (hits.get(id) ?? 0) + 1);
  });
  const busy = profile.nodes.filter((node) => node.callFrame.functionName !== '(idle)' && hits.has(node.id));
  const total = busy.reduce((sum, node) => sum + hits.get(node.id), 0);
  const byFunction = new Map();
  const byPackage = new Map();
  for (const node of busy) {
    const count = hits.get(node.id);
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url === '' ? '' : `${shorten(url)}:${lineNumber + 1}`;
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + count);
    const pkg = packageOf(url, functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + count);
  }
  const ranked = (map) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, count]) => ({ name, percent: Math.round((1000 * count) / total) / 10 }));
  return { busySamples: total, topFunctions: ranked(byFunction), byPackage: ranked(byPackage) };
}

function shorten(url) {
  return url.replace(`file://${ROOT}`, '').replace(/^.*node_modules\//, 'node_modules/');
}

function packageOf(url, functionName) {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native: syscalls, V8 builtins)';
  if (url.startsWith('node:')) return 'node: internals (http, net, streams, events)';
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1];
  if (url.includes('/dist/src/')) return 'accountservice (dist/src)';
  return url;
}

export function formatSummary(summary) {
  const lines = (list) => list.map(({ name, percent }) => `${percent.toFixed(1).padStart(5)}%  ${name}`).join('\n');
  return `Top self time by function (share of busy samples):\n${lines(summary.topFunctions)}\n\nSelf time by package:\n${lines(summary.byPackage)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { endpoint, seconds, top, keep } = parseCliOptions(
    process.argv.slice(2),
    { endpoint: { fallback: 'accounts', oneOf: ENDPOINTS }, seconds: { fallback: 10, whole: true }, top: { fallback: 25, whole: true }, keep: { fallback: undefined } },
    'node bench/profile.mjs [--endpoint accounts|health] [--seconds 10] [--top 25] [--keep DIR]',
  );
  const pinning = createPinning(availableParallelism());
  pinning.pinSelf();
  const group = new ProcessGroup();
  try {
    const paths = await endpointPaths(endpoint);
    const tool = createLoadTool(undefined, pinning, group);
    const summary = await profileEndpoint(group, pinning, tool, {
      paths,
      seconds,
      top,
      dir: keep === undefined ? undefined : resolve(keep),
    });
    process.stdout.write(`${endpoint}: ${Math.round(summary.rps)} req/s under the profiler (${tool.name}, ${seconds} s)\n\n`);
    process.stdout.write(formatSummary(summary));
    if (summary.file !== undefined) process.stdout.write(`\nprofile kept: ${summary.file}\n`);
  } finally {
    await group.stopAll();
  }
}
