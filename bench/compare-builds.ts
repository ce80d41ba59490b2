// Before/after for a performance change: two builds of the service side by side on the service
// core, loaded in alternating rounds by the same tool, so a noisy machine weighs on both alike.
// Reports req/s and the server's CPU time per request for each, and B's over A's, round by round.
//
//   cp -r dist package.json /tmp/before/ && ln -s $PWD/node_modules /tmp/before/
//   (make the change, npm run build)
//   node --import tsx bench/compare-builds.ts --a /tmp/before --b . [--endpoint accounts|health] [--rounds 6] [--seconds 5] [--env NAME=VALUE,...]

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseCliOptions } from './cli.js';
import { combineRuns, createLoadTool, type LoadRun } from './measure.js';
import { ENDPOINTS, ProcessGroup, createPinning, endpointPaths, startService, type RunningService } from './processes.js';
import { parseEnvPairs } from './profile.js';
import { describeSpread } from './stats.js';

const USAGE =
  'node --import tsx bench/compare-builds.ts --a DIR --b DIR [--endpoint accounts|health] [--rounds 6] [--seconds 5] [--env NAME=VALUE,...]';
const options = parseCliOptions(
  process.argv.slice(2),
  {
    a: { fallback: '.' },
    b: { fallback: '.' },
    endpoint: { fallback: 'accounts', oneOf: ENDPOINTS },
    rounds: { whole: true, fallback: 6 },
    seconds: { whole: true, fallback: 5 },
    env: { fallback: '' },
  },
  USAGE,
);
const names = ['A', 'B'] as const;
const builds = { A: resolve(options.a), B: resolve(options.b) };
// The bundle when the build has one (builds from before it run the tsc output); never this
// checkout's build in place of a missing one.
const mains = Object.fromEntries(
  names.map((name) => {
    const main = [join(builds[name], 'dist/accountservice.cjs'), join(builds[name], 'dist/src/main.js')].find((file) => existsSync(file));
    if (main === undefined) {
      process.stderr.write(`build ${name}: ${builds[name]} has neither dist/accountservice.cjs nor dist/src/main.js (build it first)\nusage: ${USAGE}\n`);
      process.exit(2);
    }
    return [name, main];
  }),
) as Record<(typeof names)[number], string>;
const env = parseEnvPairs(options.env, USAGE);

const pinning = createPinning(availableParallelism());
pinning.pinSelf();
const group = new ProcessGroup();
try {
  const paths = await endpointPaths(options.endpoint as (typeof ENDPOINTS)[number]);
  const tool = createLoadTool(undefined, pinning, group);
  const services = {} as Record<(typeof names)[number], RunningService>;
  for (const name of names) services[name] = await startService(group, pinning, { main: mains[name], label: `build ${name}`, env });
  for (const name of names) await tool.run({ baseUrl: services[name].url, paths, durationS: 2 });
  const runs: Record<(typeof names)[number], LoadRun[]> = { A: [], B: [] };
  for (let round = 0; round < options.rounds; round++) {
    for (const name of round % 2 === 0 ? names : ([...names].reverse())) {
      runs[name].push(await tool.run({ baseUrl: services[name].url, paths, durationS: options.seconds, serverPid: services[name].pid }));
    }
  }
  const figures = { A: combineRuns(runs.A), B: combineRuns(runs.B) };
  for (const name of names) {
    const figure = figures[name];
    process.stdout.write(
      `${name} ${builds[name]}: ${Math.round(figure.rps)} req/s, ${figure.cpuUsPerRequest.toFixed(1)} CPU µs/req, ` +
        `${figure.non2xx} non-2xx, ${figure.socketErrors} socket errors\n`,
    );
    // Non-2xx answers from /health are the service saying it is unhealthy: show its own account of why.
    if (figure.non2xx > 0) process.stdout.write(`${name}'s last log lines:\n${services[name].log().slice(-3000)}${services[name].output()}\n`);
  }
  // Each round's B against the same round's A: how steady the difference is, which totals hide on a noisy machine.
  const rps = runs.A.map((a, i) => runs.B[i]!.rps / a.rps);
  const cpu = runs.A.map((a, i) => runs.B[i]!.serverCpuS! / runs.B[i]!.requests / (a.serverCpuS! / a.requests));
  process.stdout.write(
    `B/A ${options.endpoint}: req/s ${(figures.B.rps / figures.A.rps).toFixed(3)}, CPU per request ` +
      `${(figures.B.cpuUsPerRequest / figures.A.cpuUsPerRequest).toFixed(3)} (${options.rounds} rounds of ${options.seconds} s each)\n` +
      `  per round: req/s ${describeSpread(rps)}; CPU per request ${describeSpread(cpu)}\n`,
  );
} finally {
  await group.stopAll();
}
