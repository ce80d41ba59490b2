// The report's text: REPORT.md and the console table, drawn from results.json (pure functions).
//   node --import tsx bench/report.ts bench/results.json     rewrites REPORT.md and throughput.svg beside it

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderSvg } from './chart.js';
import { formatMb, formatMs, formatRatio, formatRps } from './format.js';
import type { LoadFigure, StartFigure } from './measure.js';
import { isMeasured, type Missing, type Results } from './results.js';
import type { TimingSummary } from './stats.js';
import { TARGETS, cpuRatio, evaluateTargets, shownRatio, startRatio, throughputRatio } from './targets.js';
import { accountsLadder, healthcheckerFloor, healthLadder, memoryFloor, probeFloor } from './ladders.js';

function resultOf(results: Results, id: string): string {
  return results.targets?.find((target) => target.id === id)?.result ?? '';
}

type Row = string[];

/** The throughput rows: one per endpoint and server, with its anchor and ratios. */
function throughputRows(results: Results): Row[] {
  const { accounts, health } = results.throughput;
  const row = (endpoint: string, server: string, figure: LoadFigure, anchor?: { figure: LoadFigure; name: string }, target = '', result = ''): Row => [
    endpoint,
    server,
    formatRps(figure.rps),
    formatMs(figure.p50Ms),
    formatMs(figure.p99Ms),
    `${figure.errors}`,
    figure.serverCpuShare.toFixed(2),
    figure.cpuUsPerRequest.toFixed(1),
    anchor === undefined ? '' : anchor.name,
    anchor === undefined ? '' : shownRatio(throughputRatio(figure, anchor.figure)),
    anchor === undefined ? '' : shownRatio(cpuRatio(figure, anchor.figure)),
    target,
    result,
  ];
  const raw = (figure: LoadFigure): { figure: LoadFigure; name: string } => ({ figure, name: 'raw node:http' });
  const fastify = { figure: accounts.fastify, name: 'bare Fastify' };
  const logging = { figure: accounts.fastifyLogging, name: 'Fastify + request logging' };
  return [
    row('GET /accounts/{id}', 'raw node:http', accounts.raw),
    row('GET /accounts/{id}', 'bare Fastify', accounts.fastify, raw(accounts.raw)),
    row('GET /accounts/{id}', 'bare Fastify + LMDB read', accounts.fastifyLmdb, fastify),
    row('GET /accounts/{id}', 'service ACCESS_LOG=off METRICS=off', accounts.serviceMinimal, fastify),
    row('GET /accounts/{id}', 'service ACCESS_LOG=off', accounts.serviceNoAccessLog, fastify),
    row('GET /accounts/{id}', 'service', accounts.service, fastify, `>= ${TARGETS.accountsVsFastify.toFixed(2)}`, resultOf(results, 'accounts-vs-fastify')),
    row('GET /accounts/{id}', 'Fastify + request logging (logger: true, to a file)', accounts.fastifyLogging, fastify),
    row('GET /accounts/{id}', 'service', accounts.service, logging, `>= ${TARGETS.accountsVsFastifyLogging.toFixed(2)}`, resultOf(results, 'accounts-vs-fastify-logging')),
    row('GET /health', 'raw node:http', health.raw),
    row('GET /health', 'bare Fastify', health.fastify, raw(health.raw)),
    row('GET /health', 'node:http + health-views', health.healthViews, raw(health.raw)),
    row('GET /health', 'service ACCESS_LOG=off METRICS=off', health.serviceMinimal, raw(health.raw)),
    row('GET /health', 'service', health.service, raw(health.raw), `>= ${TARGETS.healthVsRaw.toFixed(2)}`, resultOf(results, 'health-vs-raw')),
  ];
}

const timing = (figure: TimingSummary): string =>
  `${formatMs(figure.medianMs)} ms median (${formatMs(figure.minMs)}-${formatMs(figure.maxMs)}, ${figure.runs} runs${figure.failures > 0 ? `, ${figure.failures} failed` : ''})`;

function startRow(results: Results, id: string, which: string, start: StartFigure | string): Row {
  const goal = id === '' ? '' : `<= ${TARGETS.startVsNode}x`;
  if (!isMeasured(start)) return [`start to first 200 from /health, ${which}`, start, '', '', goal, resultOf(results, id)];
  return [
    `start to first 200 from /health, ${which} (${start.version})`,
    `${timing(start.serviceMs)}; CPU used by then ${formatMs(start.serviceCpuMs.medianMs)} ms median` +
      (start.failures.length > 0 ? `; ${start.failures.length} failed: ${start.failures[0]}` : ''),
    `\`node -e 0\` of the same binary: ${timing(start.nodeMs)}`,
    shownRatio(startRatio(start)),
    goal,
    resultOf(results, id),
  ];
}

/** A probe command's wall time against `node -e 0`'s. */
function wallTimeRow(figure: string, time: TimingSummary | Missing, node: TimingSummary, target = '', result = ''): Row {
  if (!isMeasured(time)) return [figure, time, '`node -e 0`', 'n/a', target, result];
  return [figure, timing(time), '`node -e 0`', formatRatio(time.medianMs / node.medianMs), target, result];
}

/** Everything else: each figure with its anchor, ratio, target and verdict. */
function otherRows(results: Results): Row[] {
  const { accounts } = results.throughput;
  const underLoad = results.healthUnderLoad;
  const rawUnderLoad = results.healthUnderLoadRaw;
  const probes = results.probeCommands;
  const transitions = results.healthTransitions;
  const { idle, afterLoad, bareNodeIdle } = results.memory;
  return [
    [
      `/health latency while /accounts is saturated (one probe at a time, every ${underLoad.intervalMs} ms at most, new connection each)`,
      `p50 ${formatMs(underLoad.p50Ms)} ms, p99 ${formatMs(underLoad.p99Ms)} ms, max ${formatMs(underLoad.maxMs)} ms`,
      `raw node:http, same probing and load: p50 ${formatMs(rawUnderLoad.p50Ms)} ms, p99 ${formatMs(rawUnderLoad.p99Ms)} ms, ${rawUnderLoad.failures} failures`,
      `p99 ${formatRatio(underLoad.p99Ms / rawUnderLoad.p99Ms)}`,
      `p99 < ${TARGETS.healthP99UnderLoadMs} ms`,
      resultOf(results, 'health-p99-under-load'),
    ],
    [
      '/health failures while /accounts is saturated',
      `${underLoad.failures} of ${underLoad.probes} probes${underLoad.failureSamples.length > 0 ? ` (${underLoad.failureSamples.slice(0, 3).join('; ')})` : ''}`,
      '',
      '',
      '0',
      resultOf(results, 'health-failures-under-load'),
    ],
    [
      "health checks leaving UP during the run (the service's own log)",
      transitions.length === 0
        ? 'none'
        : transitions
            .slice(0, 5)
            .map((t) => `${t.service}: ${t.check} ${t.from} to ${t.to}${t.cause ? ` (${t.cause})` : ''}`)
            .join('; ') + (transitions.length > 5 ? `; and ${transitions.length - 5} more` : ''),
      '',
      '',
      '',
      '',
    ],
    [
      '/accounts during that saturation',
      `${formatRps(underLoad.accounts.rps)} req/s, p99 ${formatMs(underLoad.accounts.p99Ms)} ms, ${underLoad.accounts.errors} errors`,
      `service alone: ${formatRps(accounts.service.rps)} req/s`,
      formatRatio(underLoad.accounts.rps / accounts.service.rps),
      '',
      '',
    ],
    ['`node -e 0` wall time', timing(probes.node), '', '', '', ''],
    wallTimeRow(
      'healthchecker wall time (`node dist/healthchecker/healthchecker.cjs -port=PORT`)',
      probes.healthchecker,
      probes.node,
      `<= ${TARGETS.healthcheckerVsNode.toFixed(2)}`,
      resultOf(results, 'healthchecker-wall-time'),
    ),
    wallTimeRow(
      'the least a probe run by node can do (`node bench/programs/minimal-probe.cjs PORT`: connect, one GET /health, the status line)',
      probes.minimalProbe ?? 'not measured in this run',
      probes.node,
    ),
    wallTimeRow('curl wall time (`curl -sf URL/health`)', probes.curl, probes.node),
    startRow(results, 'start-vs-node-this', "the bench's node", results.starts.thisNode),
    startRow(results, 'start-vs-node-second', "the image's node", results.starts.secondNode),
    // Not a target: what baking a compile cache into the image would bring.
    startRow(results, '', "the image's node with a compile cache written by an earlier start", results.starts.secondNodeCompileCache ?? 'not measured in this run'),
    [
      'RSS idle after one request',
      `${formatMb(idle.rssMb)} MB (heap and other anonymous ${formatMb(idle.anonMb)} MB, file pages ${formatMb(idle.fileMb)} MB)`,
      isMeasured(bareNodeIdle) ? `bare node:http (plain node): ${formatMb(bareNodeIdle.rssMb)} MB (anonymous ${formatMb(bareNodeIdle.anonMb)}, file ${formatMb(bareNodeIdle.fileMb)})` : bareNodeIdle,
      isMeasured(bareNodeIdle) ? formatRatio(idle.rssMb / bareNodeIdle.rssMb) : '',
      `< ${TARGETS.idleRssMb} MB`,
      resultOf(results, 'idle-rss'),
    ],
    ['RSS after the load runs', `${formatMb(afterLoad.rssMb)} MB (peak ${formatMb(afterLoad.peakRssMb)} MB)`, 'RSS idle', formatRatio(afterLoad.rssMb / idle.rssMb), '', ''],
  ];
}

function table(header: readonly string[], rows: readonly Row[]): string {
  const escape = (cell: string): string => cell.replaceAll('|', '\\|');
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`)].join('\n');
}

const THROUGHPUT_HEADER = ['Endpoint', 'Server', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'server CPU', 'CPU µs/req', 'Anchor', 'Ratio req/s', 'Ratio CPU/req', 'Target', 'Result'];
const OTHER_HEADER = ['Figure', 'Value', 'Anchor', 'Ratio', 'Target', 'Result'];

export function renderMarkdown(results: Results): string {
  const { meta, settings } = results;
  const targets = results.targets ?? [];
  const passed = targets.filter((target) => target.result === 'PASS').length;
  const missed = targets.filter((target) => target.result !== 'PASS');
  return `# Benchmark report

Produced by \`npm run bench${meta.mode === 'full' ? '' : ` -- --${meta.mode}`}\` (bench/run.ts) on ${meta.date}.

- Machine: ${meta.nproc} cores (${meta.cpu}), Linux ${meta.kernel}, Node ${meta.node}
- Load tool: ${meta.loadTool}, 1 thread, ${settings.connections} keep-alive connections, loopback only
- Pinning: ${meta.pinning}
- Load average at start ${meta.loadAverageAtStart.join(' ')}, at end ${(meta.loadAverageAtEnd ?? []).join(' ')} (other work on the machine shows here)
- Service: the production build (\`node dist/accountservice.cjs\`, the bundle that \`npm start\` and the image run) with
  ${settings.serviceEnv}: the production defaults, so every request writes its access line (to a file), is counted in the
  metrics and carries a request id
- Per target: ${settings.warmupS} s warm-up, then ${settings.rounds} round(s) of ${settings.roundS} s, order alternating each round; req/s is
  total requests over total time, p50 the median of the rounds, p99 the worst; a ratio is the median of the rounds'
  ratios (in a round each server is loaded once, seconds apart), with their range

${noiseWarning(results)}**Targets: ${passed} of ${targets.length} PASS${missed.length > 0 ? `; not met: ${missed.map((t) => `${t.name} (${t.shown}, target ${t.target})`).join('; ')}` : ''}.**

${table(['Target', 'Measured', 'Goal', 'Result'], targets.map((t) => [t.name, t.shown, t.target, t.result]))}

## Throughput: the service against bare Fastify and the raw node:http ceiling

bench/programs/raw-server.ts is node:http answering the same bytes with the same headers from a Map;
bench/programs/fastify-server.ts is bare Fastify (no logger, hooks or metrics) doing the same: the gap
from raw to it is Fastify's own, the gap from it to the service is what the service adds (LMDB read,
access log, request id, metrics, the lookup deadline). With \`--log-file\` it is what a user would run
instead: Fastify with its own default request logging (\`logger: true\`: two pino lines per request,
pino's synchronous destination, to a file). bench/programs/health-server.ts is node:http with
health-views' interceptor and nothing else: the first rung of the /health ladder. GET /accounts/{id}
rotates over the 100 seeded ids. errors = non-2xx answers plus socket errors. server CPU = cores' worth of CPU the server used
while loaded (below 1.00: the machine's other work or the load tool held it back). CPU µs/req = the
server's CPU time (all threads, /proc/PID/stat) per request, which other work changes little; "Ratio
CPU/req" = the anchor's CPU per request over this one's, round by round: the req/s ratio to expect when
both have a core to themselves. The targets are judged on the req/s ratio.

${table(THROUGHPUT_HEADER, throughputRows(results))}

${accountsLadder(results, table)}

${healthLadder(results, table)}

![req/s per endpoint against the raw ceiling, and p50/p99 latency](throughput.svg)

## Health under load, probes, start and memory

${table(OTHER_HEADER, otherRows(results))}

${memoryFloor(results)}

${probeFloor(results)}

${healthcheckerFloor(results)}

How these are measured:
- /health under load: the load tool saturates GET /accounts/{id} for ${settings.saturationS} s while
  bench/programs/health-prober.ts sends GET /health on a new connection, one probe at a time (as Docker
  and Kubernetes probes do), each ${settings.probeIntervalMs} ms after the previous one started or as soon as it ended; a failure
  is a non-200, a socket error or no answer within 2 s. The raw server is probed the same way first: the
  floor that queueing behind ${settings.connections} busy connections on one core sets on this machine.
- Probe wall times: ${results.probeCommands.method}, ${settings.startCommandRuns} runs each after ${settings.startCommandWarmup} warm-up runs, commands interleaved,
  against the idle service, without NODE_EXTRA_CA_CERTS (a container has no such variable).
- Start to healthy: from spawning \`node dist/accountservice.cjs\` (the launcher, with the code cache the build or
  the bench wrote for that node; fresh temp database each time, the
  settings above) to its first 200 from /health, polled every 2 ms, against spawn to exit of \`node -e 0\`
  of the same binary on the same core, the two alternating; ${settings.startupRuns} pairs per binary after one unmeasured
  pair; the ratio is the median of the pairs' ratios. The image's node is the official Node 24 build that
  deploy/docker/make-base-images.sh caches (or \`--second-node PATH\`, or ACCOUNTSERVICE_BASE_NODE). On
  Node >= 22.1 it is timed once more with NODE_COMPILE_CACHE on top, pointing at a cache the unmeasured
  first start wrote.
- RSS: VmRSS from /proc/PID/status, idle after one request of each kind and a pause, and after all the
  load runs (peak is VmHWM).
${renderProfile(results)}`;
}

/** The CPU profile section, when the run profiled the service (bench/profile.ts). */
function renderProfile(results: Results): string {
  if (results.profile === undefined) return '';
  const sections = Object.entries(results.profile).map(([endpoint, summary]) => {
    const rows = (list: { name: string; percent: number }[]): Row[] => list.map(({ name, percent }) => [`${percent.toFixed(1)}%`, `\`${name}\``]);
    return `### ${endpoint === 'health' ? 'GET /health' : 'GET /accounts/{id}'} (${formatRps(summary.rps)} req/s under the profiler, ${summary.seconds} s)

${table(['Self time', 'Function'], rows(summary.topFunctions))}

${table(['Self time', 'Package'], rows(summary.byPackage.slice(0, 10)))}`;
  });
  return `
## Where the time goes: CPU profile

The service under \`node --cpu-prof\` with the settings above, loaded after a warm-up. It runs tsc's
unbundled output (\`dist/src/main.js\`: the same code as the bundle, in files that show each function's
package). Only the samples taken during the measured load count, and shares are of those in which the
process was busy. \`writev\` is the kernel write of each response; "(program)" is V8 and native code
without a JavaScript frame.

${sections.join('\n\n')}
`;
}

/** A run in which the servers did not get their core to themselves says so, first. */
function noiseWarning(results: Results): string {
  const figures = Object.values(results.throughput).flatMap((endpoint) => Object.values(endpoint as Record<string, LoadFigure>));
  const least = Math.min(...figures.map((figure) => figure.serverCpuShare));
  if (!(least < 0.8)) return '';
  return `> **Noisy run**: some server got only ${least.toFixed(2)} of a core under load (see "server CPU"): other work on the
> machine took the rest, or the load tool could not keep up, so req/s and latencies are lower and less steady
> than on a quiet machine. The ratios hold better than the absolute figures, and CPU µs/req better still.

`;
}

export function renderConsole(results: Results): string {
  const verdicts = (results.targets ?? []).map((target) => `${target.result.padEnd(7)} ${target.name}: ${target.shown} (target ${target.target})`);
  return `\n${table(THROUGHPUT_HEADER, throughputRows(results))}\n\n${table(OTHER_HEADER, otherRows(results))}\n\n${verdicts.join('\n')}\n`;
}

/** Writes REPORT.md, results.json and throughput.svg into dir. */
export function writeReport(dir: string, results: Results): void {
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(dir, 'REPORT.md'), renderMarkdown(results));
  writeFileSync(join(dir, 'throughput.svg'), renderSvg(results));
}

// Redraw from a results.json: node --import tsx bench/report.ts bench/results.json
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), 'results.json');
  const results = JSON.parse(readFileSync(file, 'utf8')) as Results;
  results.targets = evaluateTargets(results);
  writeReport(dirname(file), results);
  process.stdout.write(renderConsole(results));
}
