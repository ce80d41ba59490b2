#!/usr/bin/env node
// Before/after for a performance change: two builds of the service side by side on the service
// core, loaded in alternating rounds by the same tool, so a noisy machine weighs on both alike.
// Reports req/s and the server's CPU time per request for each, and B's over A's.
//
//   cp -r dist /tmp/before/dist && ln -s $PWD/node_modules /tmp/before/ && cp package.json /tmp/before/
//   (make the change, npm run build)
//   node bench/compare-builds.mjs --a /tmp/before --b . [--endpoint accounts|health] [--rounds 6] [--seconds 5]

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { ENDPOINTS, ProcessGroup, createLoadTool, createPinning, endpointPaths, median, parseCliOptions, startService } from './lib.mjs';

const USAGE =
  'node bench/compare-builds.mjs --a DIR --b DIR [--endpoint accounts|health] [--rounds 6] [--seconds 5] [--env NAME=VALUE,...]';
const options = parseCliOptions(
  process.argv.slice(2),
  {
    a: { fallback: '.' },
    b: { fallback: '.' },
    endpoint: { fallback: 'accounts', oneOf: ENDPOINTS },
    rounds: { fallback: 6, whole: true },
    seconds: { fallback: 5, whole: true },
    env: { fallback: '' },
  },
  USAGE,
);
const { endpoint, rounds, seconds } = options;
const builds = { A: resolve(options.a), B: resolve(options.b) };
// The bundle when the build has one (builds from before it run the tsc output); never this
// checkout's build in place of a missing one.
const mains = Object.fromEntries(
  Object.entries(builds).map(([name, dir]) => {
    const main = [join(dir, 'dist/accountservice.cjs'), join(dir, 'dist/src/main.js')].find((file) => existsSync(file));
    if (main === undefined) {
      process.stderr.write(`build ${name}: ${dir} has neither dist/accountservice.cjs nor dist/src/main.js (build it first)\nusage: ${USAGE}\n`);
      process.exit(2);
    }
    return [name, main];
  }),
);
// NAME=VALUE pairs, split at the first "=" (a value may hold more).
const env = {};
for (const pair of options.env.split(',').filter((item) => item !== '')) {
  const at = pair.indexOf('=');
  if (at < 1) {
    process.stderr.write(`--env wants NAME=VALUE pairs separated by commas (got ${pair})\nusage: ${USAGE}\n`);
    process.exit(2);
  }
  env[pair.slice(0, at)] = pair.slice(at + 1);
}

const pinning = createPinning(availableParallelism());
pinning.pinSelf();
const group = new ProcessGroup();
try {
  const paths = await endpointPaths(endpoint);
  const tool = createLoadTool(undefined, pinning, group);
  const services = {};
  for (const [name, main] of Object.entries(mains)) {
    services[name] = await startService(group, pinning, { main, label: `build ${name}`, env });
  }
  for (const service of Object.values(services)) await tool.run({ baseUrl: service.url, paths, durationS: 2, connections: 64 });
  const runs = { A: [], B: [] };
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 === 0 ? ['A', 'B'] : ['B', 'A']) {
      const service = services[name];
      runs[name].push(await tool.run({ baseUrl: service.url, paths, durationS: seconds, connections: 64, serverPid: service.pid }));
    }
  }
  const summary = Object.fromEntries(
    Object.entries(runs).map(([name, list]) => {
      const requests = list.reduce((sum, run) => sum + run.requests, 0);
      return [
        name,
        {
          rps: requests / list.reduce((sum, run) => sum + run.durationS, 0),
          cpuUsPerRequest: (list.reduce((sum, run) => sum + run.serverCpuS, 0) * 1e6) / requests,
          medianRoundRps: median(list.map((run) => run.rps)),
          non2xx: list.reduce((sum, run) => sum + run.non2xx, 0),
          socketErrors: list.reduce((sum, run) => sum + run.socketErrors, 0),
        },
      ];
    }),
  );
  for (const [name, figure] of Object.entries(summary)) {
    process.stdout.write(
      `${name} ${builds[name]}: ${Math.round(figure.rps)} req/s (median round ${Math.round(figure.medianRoundRps)}), ` +
        `${figure.cpuUsPerRequest.toFixed(1)} CPU µs/req, ${figure.non2xx} non-2xx, ${figure.socketErrors} socket errors\n`,
    );
  }
  for (const [name, figure] of Object.entries(summary)) {
    // Non-2xx answers from /health are the service saying it is unhealthy: show its own account of why.
    if (figure.non2xx > 0) process.stdout.write(`${name} answered ${figure.non2xx} non-2xx; its last output:\n${services[name].output().slice(-3000)}\n`);
  }
  // Each round's B against the same round's A: the median and the middle half of these ratios say
  // how steady the difference is, which the totals alone hide on a noisy machine.
  const pairs = runs.A.map((a, i) => ({ rps: runs.B[i].rps / a.rps, cpu: runs.B[i].serverCpuS / runs.B[i].requests / (a.serverCpuS / a.requests) }));
  const spread = (values) => {
    const sorted = [...values].sort((x, y) => x - y);
    const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
    return `median ${median(values).toFixed(3)} (middle half ${at(0.25).toFixed(3)}-${at(0.75).toFixed(3)})`;
  };
  process.stdout.write(
    `B/A ${endpoint}: req/s ${(summary.B.rps / summary.A.rps).toFixed(3)}, ` +
      `CPU per request ${(summary.B.cpuUsPerRequest / summary.A.cpuUsPerRequest).toFixed(3)} (${rounds} rounds of ${seconds} s each)\n` +
      `  per round: req/s ${spread(pairs.map((p) => p.rps))}; CPU per request ${spread(pairs.map((p) => p.cpu))}\n`,
  );
} finally {
  await group.stopAll();
}
