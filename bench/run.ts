// The benchmark: how close the built service, with its production defaults on, comes to bare
// Fastify and to raw node:http on the same machine, in the same run (so the ratios hold on a noisy
// machine); whether a service saturated with /accounts traffic still answers /health quickly; how
// long it takes to its first healthy answer against `node -e 0`, on this node and on the image's;
// and its memory. Writes REPORT.md, results.json and throughput.svg; every process it starts is
// stopped by its PID, also on failure.
//
//   npm run bench                      the full run (a few minutes), report in bench/
//   npm run bench -- --quick           a few seconds per step (or BENCH_QUICK=1)
//   node --import tsx bench/run.ts --smoke --out DIR     the shortest run, for the test; report in DIR
//   options: --tool wrk|autocannon (default: wrk when installed), --out DIR, --profile | --no-profile,
//            --second-node PATH (default: ACCOUNTSERVICE_BASE_NODE, else the cached official Node 24)

import { createReadStream, existsSync, mkdirSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseCliOptions } from './cli.js';
import {
  CONNECTIONS,
  PROBE_INTERVAL_MS,
  bareNodeIdleMemory,
  compareThroughput,
  createLoadTool,
  healthUnderLoad,
  measureStoreRead,
  timeCommands,
  timeStarts,
  type LoadFigure,
  type LoadTool,
  type ProbeFigure,
  type TimedCommand,
} from './measure.js';
import {
  BENCH_DIR,
  HEALTHCHECKER,
  MINIMAL_PROBE,
  ProcessGroup,
  SERVICE_ENV,
  SERVICE_MAIN,
  createPinning,
  endpointPaths,
  findExecutable,
  findSecondNode,
  httpGet,
  memoryOf,
  nodeVersionOf,
  scratchDir,
  startReferenceServer,
  startService,
  writeCodeCache,
  type Memory,
  type Pinning,
  type RunningServer,
  type RunningService,
} from './processes.js';
import { profileEndpoint } from './profile.js';
import { renderConsole, writeReport } from './report.js';
import type { Meta, Results, Settings, TargetVerdict } from './results.js';
import { evaluateTargets } from './targets.js';

const MODES = {
  // warm-up per target, then `rounds` alternating rounds of roundS seconds per target.
  // profileS: seconds of load under --cpu-prof per endpoint, when profiling.
  // storeReadMs: CPU time per figure of the store read micro-benchmark.
  full: { warmupS: 3, roundS: 3, rounds: 6, saturationS: 15, startCommandRuns: 30, startCommandWarmup: 5, startupRuns: 9, settleMs: 1000, profileS: 8, storeReadMs: 1000 },
  quick: { warmupS: 1, roundS: 2, rounds: 2, saturationS: 4, startCommandRuns: 10, startCommandWarmup: 2, startupRuns: 3, settleMs: 500, profileS: 3, storeReadMs: 400 },
  smoke: { warmupS: 0, roundS: 1, rounds: 1, saturationS: 3, startCommandRuns: 3, startCommandWarmup: 1, startupRuns: 2, settleMs: 200, profileS: 1, storeReadMs: 100 },
} as const;
type Mode = (typeof MODES)[keyof typeof MODES];

const USAGE =
  'npm run bench -- [--quick | --smoke] [--out DIR] [--tool wrk|autocannon] [--profile | --no-profile] [--second-node PATH]\n' +
  '  --profile       profile the service under load and add the top functions to the report\n' +
  '                  (the full run does so by itself when a throughput target is missed)\n' +
  "  --second-node   the second node binary whose start is timed (the image's Node 24)";

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

async function settle(ms: number): Promise<void> {
  await new Promise((done) => setTimeout(done, ms));
}

/** The health transitions to a status other than UP that the service logged, read from its log file. */
async function loggedTransitions(label: string, logFile: string): Promise<Results['healthTransitions']> {
  const transitions: Results['healthTransitions'] = [];
  if (!existsSync(logFile)) return transitions;
  for await (const line of createInterface({ input: createReadStream(logFile, 'utf8'), crlfDelay: Infinity })) {
    if (!line.includes('"check":')) continue; // access lines, the bulk, are skipped unparsed
    try {
      const entry = JSON.parse(line) as { check?: unknown; from?: unknown; to?: unknown; cause?: unknown };
      if (typeof entry.check === 'string' && typeof entry.to === 'string' && entry.to !== 'UP') {
        transitions.push({ service: label, check: entry.check, from: String(entry.from), to: entry.to, cause: typeof entry.cause === 'string' ? entry.cause : null });
      }
    } catch {
      // not a JSON line
    }
  }
  return transitions;
}

/** Whether a node of this version (v22.1 and later) keeps a compile cache where NODE_COMPILE_CACHE says. */
function hasCompileCache(version: string): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 1);
}

function loadAverage(): number[] {
  return loadavg().map((value) => Math.round(value * 100) / 100);
}

function machineFacts(tool: LoadTool, pinning: Pinning, mode: string, cores: number): Meta {
  return {
    date: new Date().toISOString(),
    nproc: cores,
    cpu: cpus()[0]?.model ?? 'unknown',
    kernel: release(),
    node: process.version,
    loadTool: `${tool.name} ${tool.version}`,
    pinning: pinning.describe,
    mode,
    loadAverageAtStart: loadAverage(),
  };
}

/** The run's choices, from its arguments and the environment, before anything is started. */
interface Choices {
  readonly modeName: keyof typeof MODES;
  readonly mode: Mode;
  readonly out: string;
  readonly tool: string | undefined;
  readonly secondNode: string | undefined;
  readonly profile: boolean;
  readonly noProfile: boolean;
}

function readArguments(argv: readonly string[]): Choices {
  const options = parseCliOptions(
    argv,
    {
      quick: { flag: true },
      smoke: { flag: true },
      profile: { flag: true },
      'no-profile': { flag: true },
      out: { fallback: BENCH_DIR },
      tool: { oneOf: ['wrk', 'autocannon'] },
      'second-node': {},
    },
    USAGE,
  );
  const modeName = options.smoke ? 'smoke' : options.quick || process.env.BENCH_QUICK === '1' ? 'quick' : 'full';
  const out = resolve(options.out);
  if (!existsSync(SERVICE_MAIN)) throw new Error(`${SERVICE_MAIN} is missing: build first (npm run build; npm run bench builds for you)`);
  return {
    modeName,
    mode: MODES[modeName],
    out,
    tool: options.tool,
    secondNode: findSecondNode(options['second-node']),
    profile: options.profile,
    noProfile: options['no-profile'],
  };
}

/** What every step of a run works with: the group of processes it started, the cores, the load tool, the mode. */
interface Rig {
  readonly group: ProcessGroup;
  readonly pinning: Pinning;
  readonly tool: LoadTool;
  readonly mode: Mode;
}

/** Moves this process off the service's core, and stops every process the run starts on SIGINT or SIGTERM. */
function rigUp(choices: Choices): { rig: Rig; meta: Meta } {
  // Counted before this process pins itself to one core (which availableParallelism would then report).
  const cores = availableParallelism();
  const pinning = createPinning(cores);
  pinning.pinSelf();
  const group = new ProcessGroup();
  const stopEverything = (): void => {
    void group.stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopEverything);
  process.once('SIGTERM', stopEverything);
  const tool = createLoadTool(choices.tool, pinning, group);
  const meta = machineFacts(tool, pinning, choices.modeName, cores);
  log(`${choices.modeName} run; ${meta.loadTool}; ${meta.pinning}; node ${meta.node}; ${meta.nproc} cores`);
  return { rig: { group, pinning, tool, mode: choices.mode }, meta };
}

function settingsOf(mode: Mode, accountPaths: number): Settings {
  return {
    warmupS: mode.warmupS,
    roundS: mode.roundS,
    rounds: mode.rounds,
    saturationS: mode.saturationS,
    startCommandRuns: mode.startCommandRuns,
    startCommandWarmup: mode.startCommandWarmup,
    startupRuns: mode.startupRuns,
    connections: CONNECTIONS,
    probeIntervalMs: PROBE_INTERVAL_MS,
    serviceEnv: `${Object.entries(SERVICE_ENV).map(([name, value]) => `${name}=${value}`).join(' ')} (METRICS, ACCESS_LOG: on by default) HOST=127.0.0.1 PORT=<free> DB_PATH=<temp>`,
    accountPaths,
  };
}

/** Every server the throughput rounds load, each under its key in results.json. */
interface Servers {
  readonly raw: RunningServer;
  readonly fastify: RunningServer;
  readonly service: RunningService;
  readonly serviceNoAccessLog: RunningServer;
  readonly fastifyLmdb: RunningServer;
  readonly serviceMinimal: RunningServer;
  readonly fastifyLogging: RunningServer;
  readonly healthViews: RunningServer;
}

/** Starts every server on the service core; scratch holds the LMDB file and Fastify's log. */
async function startServers({ group, pinning }: Rig, scratch: string): Promise<Servers> {
  const raw = await startReferenceServer(group, pinning, 'raw-server.ts', 'raw node:http');
  const fastify = await startReferenceServer(group, pinning, 'fastify-server.ts', 'bare Fastify');
  const service = await startService(group, pinning, { label: 'service' });
  const serviceNoAccessLog = await startService(group, pinning, { label: 'service ACCESS_LOG=off', env: { ACCESS_LOG: 'off' } });
  // The ladder from bare Fastify to the service: + the LMDB read, then the service with every
  // feature that can be switched off switched off (what is left: request ids and headers, the
  // connection guard and timeouts, the route's checks, servedBy), then + metrics, + the access log.
  const fastifyLmdb = await startReferenceServer(group, pinning, 'fastify-server.ts', 'bare Fastify + LMDB read', ['--lmdb', scratch]);
  const serviceMinimal = await startService(group, pinning, {
    label: 'service ACCESS_LOG=off METRICS=off',
    env: { ACCESS_LOG: 'off', METRICS: 'off' },
  });
  // What a user would run instead of the service: Fastify logging each request its own way.
  const fastifyLogging = await startReferenceServer(group, pinning, 'fastify-server.ts', 'Fastify + request logging', [
    '--log-file',
    join(scratch, 'fastify.log'),
  ]);
  // The /health ladder's first rung: raw node:http with health-views in front, nothing else.
  const healthViews = await startReferenceServer(group, pinning, 'health-server.ts', 'node:http + health-views');
  return { raw, fastify, service, serviceNoAccessLog, fastifyLmdb, serviceMinimal, fastifyLogging, healthViews };
}

/** Idle memory: after one request of each kind and a moment to settle, before any load. */
async function idleMemory({ group, pinning, mode }: Rig, service: RunningService, accountPaths: readonly string[]): Promise<Pick<Results['memory'], 'idle' | 'bareNodeIdle'>> {
  for (const path of [accountPaths[0]!, '/health']) await httpGet(`${service.url}${path}`);
  await settle(mode.settleMs);
  const idle = memoryOf(service.pid);
  const bareNodeIdle = await bareNodeIdleMemory(group, pinning, mode.settleMs).catch((error: Error) => `not measured: ${error.message}`);
  return { idle, bareNodeIdle };
}

/** The same load on the servers under keys, in alternating rounds in that order: a figure per key. */
async function rounds<K extends keyof Servers>(rig: Rig, servers: Servers, keys: readonly K[], paths: readonly string[]): Promise<Record<K, LoadFigure>> {
  const targets = keys.map((key) => ({ key, server: servers[key] }));
  const figures = await compareThroughput(rig.tool, targets, paths, rig.mode, log);
  return Object.fromEntries(keys.map((key) => [key, figures[key]!])) as Record<K, LoadFigure>;
}

/** /accounts on its ladder, then /health on its own; each server stops once its last rounds are done. */
async function throughputRounds(rig: Rig, servers: Servers, accountPaths: readonly string[]): Promise<Results['throughput']> {
  const accountKeys = ['raw', 'fastify', 'service', 'serviceNoAccessLog', 'fastifyLmdb', 'serviceMinimal', 'fastifyLogging'] as const;
  const accounts = await rounds(rig, servers, accountKeys, accountPaths);
  for (const key of ['serviceNoAccessLog', 'fastifyLmdb', 'fastifyLogging'] as const) await servers[key].stop();
  const health = await rounds(rig, servers, ['raw', 'fastify', 'healthViews', 'serviceMinimal', 'service'], ['/health']);
  for (const key of ['fastify', 'healthViews', 'serviceMinimal'] as const) await servers[key].stop();
  // results.json keeps its order of /health's servers, which is not the rounds' order.
  const { raw, fastify, service, healthViews, serviceMinimal } = health;
  return { accounts, health: { raw, fastify, service, healthViews, serviceMinimal } };
}

async function storeReadAlone({ group, pinning, mode }: Rig, scratch: string): Promise<Results['storeRead']> {
  log(`the store's read alone, ${mode.storeReadMs} ms per figure`);
  return measureStoreRead(group, pinning, scratch, mode.storeReadMs).catch((error: Error) => `not measured: ${error.message.split('\n')[0]}`);
}

/**
 * /health probed while /accounts is saturated. The raw server first, under the same probing and
 * load: what a Node process that does nothing else shows on this machine right now, the anchor for
 * the service's figures. Then the service, and its memory after all the load.
 */
async function healthUnderSaturation(
  { group, pinning, tool, mode }: Rig,
  servers: Servers,
  accountPaths: readonly string[],
): Promise<{ underLoad: ProbeFigure; underLoadRaw: ProbeFigure; afterLoad: Memory }> {
  log(`/health probed while /accounts is saturated, raw server then service, ${mode.saturationS}s each`);
  const underLoadRaw = await healthUnderLoad(group, pinning, tool, servers.raw, accountPaths, mode.saturationS);
  await servers.raw.stop();
  const underLoad = await healthUnderLoad(group, pinning, tool, servers.service, accountPaths, mode.saturationS);
  return { underLoad, underLoadRaw, afterLoad: memoryOf(servers.service.pid) };
}

/** Wall times of `node -e 0`, the healthchecker, the least a node probe can do, and curl against the idle service. */
function probeCommandTimes({ mode }: Rig, service: RunningService): Results['probeCommands'] {
  log(`wall times of node -e 0, the healthchecker, the minimal probe and curl, ${mode.startCommandRuns} runs each`);
  const commands: TimedCommand[] = [{ key: 'node', argv: [process.execPath, '-e', '0'] }];
  if (existsSync(HEALTHCHECKER)) commands.push({ key: 'healthchecker', argv: [process.execPath, HEALTHCHECKER, `-port=${service.port}`] });
  commands.push({ key: 'minimalProbe', argv: [process.execPath, MINIMAL_PROBE, String(service.port)] });
  const curl = findExecutable('curl');
  if (curl !== undefined) commands.push({ key: 'curl', argv: [curl, '-sf', '-o', '/dev/null', `${service.url}/health`] });
  const timings = timeCommands(commands, mode.startCommandRuns, mode.startCommandWarmup);
  return {
    method: 'timed spawnSync',
    node: timings.node!,
    healthchecker: timings.healthchecker ?? `missing: ${HEALTHCHECKER} is not built`,
    minimalProbe: timings.minimalProbe!,
    curl: timings.curl ?? 'missing: curl is not installed',
  };
}

/** Start to first 200 from /health against `node -e 0`: this node, then the second one. */
async function startTimes(rig: Rig, secondNode: string | undefined): Promise<Results['starts']> {
  const { group, pinning, mode } = rig;
  log(`start to first 200 from /health against node -e 0, ${mode.startupRuns} pairs per node binary`);
  const thisNode = await timeStarts(group, pinning, process.execPath, process.version, mode.startupRuns, log);
  if (secondNode === undefined) {
    return {
      thisNode,
      secondNode: 'not measured: no second node (give --second-node PATH, set ACCOUNTSERVICE_BASE_NODE, or run deploy/docker/make-base-images.sh once)',
      secondNodeCompileCache: 'not measured: no second node',
    };
  }
  return { thisNode, ...(await secondNodeStarts(rig, secondNode)) };
}

/** The second node's starts, with its code cache as the image build writes it with the image's node. */
async function secondNodeStarts(rig: Rig, node: string): Promise<Omit<Results['starts'], 'thisNode'>> {
  try {
    const version = nodeVersionOf(node);
    writeCodeCache(node);
    const secondNode = await timeStarts(rig.group, rig.pinning, node, version, rig.mode.startupRuns, log);
    return { secondNode, secondNodeCompileCache: await compileCacheStarts(rig, node, version) };
  } catch (error) {
    return { secondNode: `not measured: ${node}: ${(error as Error).message.split('\n')[0]}`, secondNodeCompileCache: 'not measured: no second node' };
  }
}

/** The same starts with NODE_COMPILE_CACHE pointing at a cache the unmeasured first start writes. */
async function compileCacheStarts({ group, pinning, mode }: Rig, node: string, version: string): Promise<Results['starts']['secondNodeCompileCache']> {
  if (!hasCompileCache(version)) return `not measured: ${version} has no compile cache (Node >= 22.1)`;
  const cacheDir = scratchDir();
  try {
    log(`the same with a compile cache (NODE_COMPILE_CACHE), ${mode.startupRuns} pairs`);
    return await timeStarts(group, pinning, node, version, mode.startupRuns, log, { NODE_COMPILE_CACHE: cacheDir.dir });
  } finally {
    cacheDir.remove();
  }
}

/** Every measurement, in the order that keeps them apart: servers, idle memory, load, probes, starts. */
async function measure(rig: Rig, meta: Meta, accountPaths: readonly string[], secondNode: string | undefined): Promise<Results> {
  const scratch = scratchDir();
  const servers = await startServers(rig, scratch.dir);
  const { idle, bareNodeIdle } = await idleMemory(rig, servers.service, accountPaths);
  const throughput = await throughputRounds(rig, servers, accountPaths);
  const storeRead = await storeReadAlone(rig, scratch.dir);
  scratch.remove();
  const { underLoad, underLoadRaw, afterLoad } = await healthUnderSaturation(rig, servers, accountPaths);
  const probeCommands = probeCommandTimes(rig, servers.service);
  const healthTransitions = await loggedTransitions(servers.service.label, servers.service.logFile);
  await servers.service.stop();
  const starts = await startTimes(rig, secondNode);
  return {
    meta,
    settings: settingsOf(rig.mode, accountPaths.length),
    throughput,
    storeRead,
    healthUnderLoad: underLoad,
    healthUnderLoadRaw: underLoadRaw,
    healthTransitions,
    probeCommands,
    starts,
    memory: { idle, afterLoad, bareNodeIdle },
  };
}

/** --profile: always; --no-profile: never; else a full run profiles when it misses a throughput target. */
function wantsProfile(choices: Choices, targets: readonly TargetVerdict[]): boolean {
  const missed = targets.some((target) => ['accounts-vs-fastify', 'health-vs-raw'].includes(target.id) && target.result !== 'PASS');
  return choices.profile || (choices.modeName === 'full' && missed && !choices.noProfile);
}

async function profileOne({ group, pinning, tool, mode }: Rig, paths: string[], name: string): ReturnType<typeof profileEndpoint> {
  log(`profiling the service under ${name} load (--cpu-prof), ${mode.profileS}s`);
  return profileEndpoint(group, pinning, tool, { paths, seconds: mode.profileS, warmupS: Math.min(2, mode.profileS), top: 15 });
}

async function profileBoth(rig: Rig, accountPaths: string[]): Promise<NonNullable<Results['profile']>> {
  return { accounts: await profileOne(rig, accountPaths, 'accounts'), health: await profileOne(rig, ['/health'], 'health') };
}

async function main(): Promise<void> {
  const choices = readArguments(process.argv.slice(2));
  const { rig, meta } = rigUp(choices);
  const accountPaths = await endpointPaths('accounts');
  try {
    const results = await measure(rig, meta, accountPaths, choices.secondNode);
    const targets = evaluateTargets(results);
    if (wantsProfile(choices, targets)) results.profile = await profileBoth(rig, accountPaths);
    meta.loadAverageAtEnd = loadAverage();
    results.targets = targets;
    mkdirSync(choices.out, { recursive: true });
    writeReport(choices.out, results);
    process.stdout.write(renderConsole(results));
    log(`wrote REPORT.md, results.json and throughput.svg to ${choices.out}`);
  } finally {
    await rig.group.stopAll();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
