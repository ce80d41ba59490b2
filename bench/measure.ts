// What the bench measures and how: load runs (req/s, latency, the server's CPU time per request),
// throughput in alternating rounds, /health probed while /accounts is saturated, wall times of
// short commands, start to first healthy answer against `node -e 0`, and memory from /proc.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BENCH_DIR,
  LOAD_CORE,
  ROOT,
  SERVICE_CORE,
  cleanEnv,
  collect,
  cpuSecondsOf,
  findExecutable,
  httpGet,
  memoryOf,
  spawnProgram,
  startService,
  type Memory,
  type Pinning,
  type ProcessGroup,
  type RunningServer,
} from './processes.js';
import { withDeadline } from '../test/helpers/deadline.js';
import type { StoreReadFigure } from './results.js';
import { median, percentile, summariseTimes, type TimingSummary } from './stats.js';

/** Keep-alive connections of every load run. */
export const CONNECTIONS = 64;

/** One load run's figures. */
export interface LoadRun {
  readonly requests: number;
  readonly durationS: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly non2xx: number;
  readonly socketErrors: number;
  readonly errors: number;
  /** CPU seconds the server used during the run, when its PID was given. */
  readonly serverCpuS?: number;
}

export interface LoadTool {
  readonly name: string;
  readonly version: string;
  run(load: { baseUrl: string; paths: readonly string[]; durationS: number; serverPid?: number }): Promise<LoadRun>;
}

interface ToolSummary {
  requests: number;
  durationUs: number;
  connectErrors: number;
  readErrors: number;
  writeErrors: number;
  statusErrors: number;
  timeouts: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

/** wrk when installed (or asked for), else autocannon, run on the load core. */
export function createLoadTool(name: string | undefined, pinning: Pinning, group: ProcessGroup): LoadTool {
  const wrk = findExecutable('wrk');
  const chosen = name ?? (wrk === undefined ? 'autocannon' : 'wrk');
  if (chosen === 'wrk' && wrk === undefined) throw new Error('--tool wrk: wrk is not installed (apt-get install wrk)');
  const version =
    chosen === 'wrk' && wrk !== undefined
      ? (/wrk (\S+)/.exec(spawnSync(wrk, ['-v'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? 'unknown')
      : (JSON.parse(readFileSync(join(ROOT, 'node_modules/autocannon/package.json'), 'utf8')) as { version: string }).version;

  async function run({ baseUrl, paths, durationS, serverPid }: Parameters<LoadTool['run']>[0]): Promise<LoadRun> {
    const cpuBefore = serverPid === undefined ? undefined : cpuSecondsOf(serverPid);
    const { child, exited } =
      chosen === 'wrk' && wrk !== undefined
        ? (() => {
            const wrkArgs = ['-t1', `-c${CONNECTIONS}`, `-d${durationS}s`, '--timeout', '5s', '-s', join(BENCH_DIR, 'programs/wrk.lua'), baseUrl, '--', ...paths];
            const [command, args] = pinning.command(LOAD_CORE, wrk, wrkArgs);
            return group.spawn(command, args, { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
          })()
        : spawnProgram(group, pinning, LOAD_CORE, 'autocannon-load.ts', [JSON.stringify({ url: baseUrl, paths, durationS, connections: CONNECTIONS })]);
    const stdout = collect(child.stdout);
    const stderr = collect(child.stderr);
    const code = await exited;
    const line = /BENCH_RESULT (\{.*\})/.exec(stdout());
    if (code !== 0 || line === null) throw new Error(`${chosen} failed (exit ${code}) against ${baseUrl}: ${stderr() || stdout()}`);
    const raw = JSON.parse(line[1]!) as ToolSummary;
    const socketErrors = raw.connectErrors + raw.readErrors + raw.writeErrors + raw.timeouts;
    return {
      requests: raw.requests,
      durationS: raw.durationUs / 1e6,
      rps: raw.requests / (raw.durationUs / 1e6),
      p50Ms: raw.p50Us / 1000,
      p99Ms: raw.p99Us / 1000,
      maxMs: raw.maxUs / 1000,
      non2xx: raw.statusErrors,
      socketErrors,
      errors: raw.statusErrors + socketErrors,
      ...(cpuBefore === undefined || serverPid === undefined ? {} : { serverCpuS: cpuSecondsOf(serverPid) - cpuBefore }),
    };
  }

  return { name: chosen, version, run };
}

/** Several rounds of one server as one figure. */
export interface LoadFigure {
  readonly rps: number;
  /** The server's CPU time per request, µs: other load on the machine barely changes it. */
  readonly cpuUsPerRequest: number;
  /** Cores' worth of CPU the server used while loaded. */
  readonly serverCpuShare: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly requests: number;
  readonly durationS: number;
  readonly non2xx: number;
  readonly socketErrors: number;
  readonly errors: number;
  readonly roundsRps: number[];
  readonly roundsCpuUsPerRequest: number[];
}

/** Total req/s, median p50, worst p99 and max, all errors, CPU per request. */
export function combineRuns(runs: readonly LoadRun[]): LoadFigure {
  const sum = (pick: (run: LoadRun) => number): number => runs.reduce((total, run) => total + pick(run), 0);
  return {
    rps: sum((run) => run.requests) / sum((run) => run.durationS),
    cpuUsPerRequest: (sum((run) => run.serverCpuS ?? Number.NaN) * 1e6) / sum((run) => run.requests),
    serverCpuShare: sum((run) => run.serverCpuS ?? Number.NaN) / sum((run) => run.durationS),
    p50Ms: median(runs.map((run) => run.p50Ms)),
    p99Ms: Math.max(...runs.map((run) => run.p99Ms)),
    maxMs: Math.max(...runs.map((run) => run.maxMs)),
    requests: sum((run) => run.requests),
    durationS: sum((run) => run.durationS),
    non2xx: sum((run) => run.non2xx),
    socketErrors: sum((run) => run.socketErrors),
    errors: sum((run) => run.errors),
    roundsRps: runs.map((run) => Math.round(run.rps)),
    roundsCpuUsPerRequest: runs.map((run) => Math.round(((run.serverCpuS ?? Number.NaN) * 1e7) / run.requests) / 10),
  };
}

export interface Rounds {
  readonly warmupS: number;
  readonly roundS: number;
  readonly rounds: number;
}

export interface Target {
  readonly key: string;
  readonly server: RunningServer;
}

/** The same load on each target, warmed up, then in rounds whose order alternates (ABC, CBA, ...). */
export async function compareThroughput(
  tool: LoadTool,
  targets: readonly Target[],
  paths: readonly string[],
  rounds: Rounds,
  log: (message: string) => void,
): Promise<Record<string, LoadFigure>> {
  const what = paths.length === 1 ? paths[0] : '/accounts/{id}';
  if (rounds.warmupS > 0) {
    for (const { server } of targets) {
      log(`warm-up ${server.label} ${what} ${rounds.warmupS}s`);
      await tool.run({ baseUrl: server.url, paths, durationS: rounds.warmupS });
    }
  }
  const runs = new Map<string, LoadRun[]>(targets.map((target) => [target.key, []]));
  for (let round = 0; round < rounds.rounds; round++) {
    for (const { key, server } of round % 2 === 0 ? targets : [...targets].reverse()) {
      log(`round ${round + 1}/${rounds.rounds} ${server.label} ${what} ${rounds.roundS}s`);
      runs.get(key)!.push(await tool.run({ baseUrl: server.url, paths, durationS: rounds.roundS, serverPid: server.pid }));
    }
  }
  return Object.fromEntries(targets.map(({ key }) => [key, combineRuns(runs.get(key)!)]));
}

/** /health probed one request at a time while /accounts is saturated. */
export interface ProbeFigure {
  readonly probes: number;
  readonly ok: number;
  readonly failures: number;
  readonly failureSamples: string[];
  readonly intervalMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** The /accounts load during the probing. */
  readonly accounts: LoadRun;
}

/** The prober's pause between probe starts: a probe every 10 ms at most. */
export const PROBE_INTERVAL_MS = 10;

/** /accounts saturated by the load tool while a light prober asks /health every PROBE_INTERVAL_MS. */
export async function healthUnderLoad(
  group: ProcessGroup,
  pinning: Pinning,
  tool: LoadTool,
  server: RunningServer,
  paths: readonly string[],
  saturationS: number,
): Promise<ProbeFigure> {
  // The prober starts a little after the load and stops a little before it, so every probe meets a busy service.
  const marginMs = Math.min(500, (saturationS * 1000) / 4);
  const settings = { url: `${server.url}/health`, durationMs: saturationS * 1000 - 2 * marginMs, intervalMs: PROBE_INTERVAL_MS, delayMs: marginMs };
  const prober = spawnProgram(group, pinning, LOAD_CORE, 'health-prober.ts', [JSON.stringify(settings)]);
  const proberOut = collect(prober.child.stdout, 10_000_000);
  const proberErr = collect(prober.child.stderr);
  const [load, code] = await Promise.all([tool.run({ baseUrl: server.url, paths, durationS: saturationS, serverPid: server.pid }), prober.exited]);
  const line = /BENCH_PROBE (\{.*\})/.exec(proberOut());
  if (code !== 0 || line === null) throw new Error(`the /health prober failed (exit ${code}): ${proberErr()}`);
  const probe = JSON.parse(line[1]!) as { sent: number; ok: number; failures: number; latenciesMs: number[]; failureSamples: string[] };
  const latencies = probe.latenciesMs.sort((a, b) => a - b);
  return {
    probes: probe.sent,
    ok: probe.ok,
    failures: probe.failures,
    failureSamples: probe.failureSamples,
    intervalMs: PROBE_INTERVAL_MS,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1) ?? Number.NaN,
    accounts: load,
  };
}

/** A command whose wall time is measured. */
export interface TimedCommand {
  readonly key: string;
  readonly argv: readonly [string, ...string[]];
}

/**
 * Wall time of each command (spawn to exit), on the load core, with warm-up runs, the commands
 * interleaved run by run so a drift in the machine's load weighs on all alike.
 */
export function timeCommands(commands: readonly TimedCommand[], runs: number, warmup: number): Record<string, TimingSummary> {
  const samples = new Map<string, { times: number[]; failures: number }>(commands.map((c) => [c.key, { times: [], failures: 0 }]));
  for (let i = 0; i < warmup + runs; i++) {
    for (const command of i % 2 === 0 ? commands : [...commands].reverse()) {
      const started = process.hrtime.bigint();
      const run = spawnSync(command.argv[0], command.argv.slice(1), { env: cleanEnv(), stdio: 'ignore' });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (i < warmup) continue;
      const sample = samples.get(command.key)!;
      sample.times.push(ms);
      if (run.status !== 0) sample.failures++;
    }
  }
  return Object.fromEntries([...samples].map(([key, { times, failures }]) => [key, summariseTimes(times, failures)]));
}

/** Start to first healthy answer of one node binary, against `node -e 0` of the same binary. */
export interface StartFigure {
  readonly node: string;
  readonly version: string;
  /** Spawn to first 200 from /health, fresh data dir each time, ms. */
  readonly serviceMs: TimingSummary;
  /** CPU time the service had used by its first 200 (10 ms ticks): less noisy than wall time on a busy machine. */
  readonly serviceCpuMs: TimingSummary;
  /** Spawn to exit of `node -e 0` on the same core, ms. */
  readonly nodeMs: TimingSummary;
  /** Each pair's service time over its `node -e 0` time. */
  readonly roundsRatio: number[];
  readonly failures: string[];
}

/**
 * Times `starts` starts of the built service (fresh temp database each time) and as many `node -e 0`,
 * alternating, both on the service core, both through the same pinning: their ratio is the figure.
 */
export async function timeStarts(
  group: ProcessGroup,
  pinning: Pinning,
  node: string,
  version: string,
  starts: number,
  log: (message: string) => void,
  env: Record<string, string> = {},
): Promise<StartFigure> {
  const serviceTimes: number[] = [];
  const serviceCpu: number[] = [];
  const nodeTimes: number[] = [];
  const ratios: number[] = [];
  const failures: string[] = [];
  let nodeFailures = 0;
  // One unmeasured start of each first: the page cache then holds node and the bundle, as on a host
  // that runs it (and a compile cache given in env is written, as an image build would bake it).
  for (let i = -1; i < starts; i++) {
    const [command, args] = pinning.command(SERVICE_CORE, node, ['-e', '0']);
    const started = process.hrtime.bigint();
    const bare = group.spawn(command, args, { env: cleanEnv(), stdio: 'ignore' });
    const code = await bare.exited;
    const bareMs = Number(process.hrtime.bigint() - started) / 1e6;
    try {
      const instance = await startService(group, pinning, { node, env, label: `service start ${i + 1} (${version})` });
      await instance.stop();
      if (i < 0) continue;
      if (code !== 0) nodeFailures++;
      serviceTimes.push(instance.startToHealthyMs);
      serviceCpu.push(instance.cpuMsAtHealthy);
      nodeTimes.push(bareMs);
      ratios.push(instance.startToHealthyMs / bareMs);
    } catch (error) {
      failures.push((error as Error).message.split('\n')[0]!);
      log(`start ${i + 1} (${version}) failed: ${failures.at(-1)}`);
    }
  }
  return {
    node,
    version,
    serviceMs: summariseTimes(serviceTimes, failures.length),
    serviceCpuMs: summariseTimes(serviceCpu, failures.length),
    nodeMs: summariseTimes(nodeTimes, nodeFailures),
    roundsRatio: ratios.map((ratio) => Math.round(ratio * 100) / 100),
    failures,
  };
}

/** The store's read alone (bench/programs/store-read.ts) on the service core, in a database in dir. */
export async function measureStoreRead(group: ProcessGroup, pinning: Pinning, dir: string, ms: number): Promise<StoreReadFigure> {
  const { child, exited } = spawnProgram(group, pinning, SERVICE_CORE, 'store-read.ts', [dir, '--ms', String(ms)]);
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  const code = await withDeadline(exited, 60_000, 'the store read benchmark');
  const line = /BENCH_STORE (\{.*\})/.exec(stdout());
  if (code !== 0 || line === null) throw new Error(`store-read failed (exit ${code}): ${stderr()}`);
  return JSON.parse(line[1]!) as StoreReadFigure;
}

/** A bare node:http server, run by plain node (no tsx, no framework): what any Node server idles at. */
const BARE_SERVER =
  "require('node:http').createServer((q, s) => s.end('{\"status\":\"UP\"}')).listen(0, '127.0.0.1', function () {" +
  " process.stdout.write(JSON.stringify({ port: this.address().port }) + '\\n'); });";

/** The bare server's RSS after one request and settleMs: the floor under the service's idle RSS. */
export async function bareNodeIdleMemory(group: ProcessGroup, pinning: Pinning, settleMs: number): Promise<Memory> {
  const [command, args] = pinning.command(SERVICE_CORE, process.execPath, ['-e', BARE_SERVER]);
  const { child, exited } = group.spawn(command, args, { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout = collect(child.stdout);
  try {
    const deadline = Date.now() + 10_000;
    let listening: RegExpExecArray | null;
    while ((listening = /\{"port":(\d+)\}/.exec(stdout())) === null) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('the bare node:http server did not listen within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await httpGet(`http://127.0.0.1:${listening[1]}/health`);
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    return memoryOf(child.pid!);
  } finally {
    await group.stop(child, exited);
  }
}
