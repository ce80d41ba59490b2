#!/usr/bin/env node
// Where the service's time goes under load: runs the built service with --cpu-prof on the service
// core, loads one endpoint from the load core, stops it with SIGTERM (the profile is written at
// exit) and prints the functions with the most self time, and the same grouped by package.
//
//   node bench/profile.mjs [--endpoint accounts|health] [--seconds 10] [--top 25] [--keep DIR]

import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { ProcessGroup, ROOT, createLoadTool, createPinning, scratchDir, startService } from './lib.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 && args[index + 1] !== undefined ? args[index + 1] : fallback;
};
const endpoint = option('endpoint', 'accounts');
const seconds = Number(option('seconds', '10'));
const top = Number(option('top', '25'));
const keep = option('keep', undefined);

const pinning = createPinning(availableParallelism());
pinning.pinSelf();
const group = new ProcessGroup();
const scratch = keep === undefined ? scratchDir() : { dir: resolve(keep), remove: () => {} };
mkdirSync(scratch.dir, { recursive: true });

try {
  const { seedAccounts } = await import('../dist/src/accounts/seed.js');
  const paths = endpoint === 'health' ? ['/health'] : seedAccounts(100).map((account) => `/accounts/${account.id}`);
  const tool = createLoadTool(undefined, pinning, group);
  const service = await startService(group, pinning, { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', scratch.dir], label: 'profiled service' });
  await tool.run({ baseUrl: service.url, paths, durationS: 2, connections: 64 }); // warm-up, in the profile too
  const load = await tool.run({ baseUrl: service.url, paths, durationS: seconds, connections: 64 });
  await service.stop();
  const file = readdirSync(scratch.dir).find((name) => name.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`no .cpuprofile written in ${scratch.dir}`);
  const profile = JSON.parse(readFileSync(join(scratch.dir, file), 'utf8'));
  process.stdout.write(`${endpoint}: ${Math.round(load.rps)} req/s under the profiler (${tool.name}, ${seconds} s)\n\n`);
  process.stdout.write(summarise(profile, top));
  if (keep !== undefined) process.stdout.write(`\nprofile kept: ${join(scratch.dir, file)}\n`);
} finally {
  await group.stopAll();
  scratch.remove();
}

/** Self time per function and per package, as a share of all samples. */
function summarise(profile, limit) {
  const total = profile.nodes.reduce((sum, node) => sum + node.hitCount, 0);
  const byFunction = new Map();
  const byPackage = new Map();
  for (const node of profile.nodes) {
    if (node.hitCount === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url === '' ? '' : `${shorten(url)}:${lineNumber + 1}`;
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + node.hitCount);
    const pkg = packageOf(url, functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + node.hitCount);
  }
  const lines = (map) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, hits]) => `${((100 * hits) / total).toFixed(1).padStart(5)}%  ${name}`)
      .join('\n');
  return `Top self time by function:\n${lines(byFunction)}\n\nSelf time by package:\n${lines(byPackage)}\n`;
}

function shorten(url) {
  return url.replace(`file://${ROOT}`, '').replace(/^.*node_modules\//, 'node_modules/');
}

function packageOf(url, functionName) {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node: internals';
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1];
  if (url.includes('/dist/src/')) return 'accountservice (dist/src)';
  return url;
}
