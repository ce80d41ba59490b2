// Starting and stopping what the bench measures: the built service (through the tests' launcher,
// test/helpers/service-process.ts), the reference servers and the load tools, pinned to their
// cores, each stopped by its PID whatever happens; and the HTTP calls that say one is ready.

import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { withDeadline } from '../test/helpers/deadline.js';
import { MAIN, ROOT, startServiceRaw } from '../test/helpers/service-process.js';

export { ROOT };
/** What npm start and the image run: the bundle of the service and its JavaScript dependencies. */
export const SERVICE_MAIN = MAIN;
/** The same code unbundled (tsc's output), for profiles that attribute time to each package's files. */
export const SERVICE_MAIN_UNBUNDLED = join(ROOT, 'dist/src/process/entry.js');
/** The built probe CLI. */
export const HEALTHCHECKER = join(ROOT, 'dist/healthchecker/healthchecker.cjs');
/** The healthchecker's anchor: connect, one GET /health, the status line (bench/programs/minimal-probe.cjs). */
export const MINIMAL_PROBE = join(ROOT, 'bench/programs/minimal-probe.cjs');
export const BENCH_DIR = join(ROOT, 'bench');

/** What an endpoint's load asks for: all 100 seeded accounts in turn, or /health. */
export const ENDPOINTS = ['accounts', 'health'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

export async function endpointPaths(endpoint: Endpoint): Promise<string[]> {
  if (endpoint === 'health') return ['/health'];
  // The service's own seed, so the ids asked for are the ids stored.
  const { seedAccounts } = await import('../src/accounts/seed.js');
  return Array.from(seedAccounts(100), (account) => `/accounts/${account.id}`);
}

/** Finds an executable on PATH (or at its usual Debian place); undefined when absent. */
export function findExecutable(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/usr/local/bin']) {
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/**
 * The second node binary whose start the bench times: the given path, else ACCOUNTSERVICE_BASE_NODE,
 * else the official Node 24 that deploy/docker/make-base-images.sh caches (the image's node).
 */
export function findSecondNode(given: string | undefined): string | undefined {
  if (given !== undefined) return given;
  const fromEnv = process.env.ACCOUNTSERVICE_BASE_NODE;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'accountservice');
  if (!existsSync(cache)) return undefined;
  const cached = readdirSync(cache)
    .filter((name) => /^node-v24\./.test(name))
    .map((name) => join(cache, name, 'package/bin/node'))
    .filter((file) => existsSync(file))
    .sort();
  return cached.at(-1);
}

/**
 * Writes the bundle's code cache for a node binary (dist/code-cache), as the image build does with
 * the image's node; npm run build writes only the building node's.
 */
export function writeCodeCache(node: string): void {
  const run = spawnSync(node, ['scripts/write-code-cache.mjs', 'dist'], { cwd: ROOT, encoding: 'utf8', env: cleanEnv({ LIBC: 'glibc' }), stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
  if (run.status !== 0) throw new Error(`writing the code cache with ${node} failed: ${run.error?.message ?? run.stderr}`);
}

/** The version a node binary reports, e.g. v24.21.0. */
export function nodeVersionOf(node: string): string {
  const run = spawnSync(node, ['--version'], { encoding: 'utf8', env: cleanEnv() });
  if (run.status !== 0) throw new Error(`${node} --version failed: ${run.error?.message ?? run.stderr}`);
  return run.stdout.trim();
}

/**
 * The environment of every process the bench starts: only what it needs. NODE_EXTRA_CA_CERTS in
 * particular is left out (it slows every Node start, and a container has no such variable).
 */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  if (process.env.HOME !== undefined) env.HOME = process.env.HOME;
  return { ...env, ...extra };
}

/** The service's core and the load generator's, when there are two cores to split. */
export const SERVICE_CORE = 0;
export const LOAD_CORE = 1;

export interface Pinning {
  readonly enabled: boolean;
  readonly describe: string;
  /** [command, args] that runs command on the given core when pinning is possible. */
  command(core: number, command: string, args: string[]): [string, string[]];
  /** Moves this process (all its threads) to the load core, off the service's core. */
  pinSelf(): void;
}

export function createPinning(cores: number): Pinning {
  const taskset = findExecutable('taskset');
  const enabled = taskset !== undefined && cores >= 2;
  return {
    enabled,
    describe: enabled
      ? `servers on core ${SERVICE_CORE}; load generator, prober and bench driver on core ${LOAD_CORE} (taskset)`
      : `not pinned (${taskset === undefined ? 'taskset not installed' : `${cores} core(s)`})`,
    command: (core, command, args) => (enabled && taskset ? [taskset, ['-c', String(core), command, ...args]] : [command, args]),
    pinSelf() {
      if (enabled && taskset) spawnSync(taskset, ['-a', '-p', '-c', String(LOAD_CORE), String(process.pid)], { stdio: 'ignore' });
    },
  };
}

/** How a child ended: its exit code, or the signal that ended it. */
export type Exit = number | string;

interface Tracked {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
}

/** Every process the bench starts, so each one is stopped by its PID, whatever happens. */
export class ProcessGroup {
  readonly #children = new Set<Tracked>();
  readonly #cleanups = new Set<() => void>();

  /** Runs fn once the processes are stopped (temp dirs), unless the returned function is called first. */
  onStopped(fn: () => void): () => void {
    this.#cleanups.add(fn);
    return () => this.#cleanups.delete(fn);
  }

  /** spawn(), remembered until it exits. taskset execs its command, so the PID is the command's. */
  spawn(command: string, args: readonly string[], options: SpawnOptions): Tracked {
    const child = spawn(command, args, options);
    const exited = new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
      child.once('error', (error) => resolve(error.message));
    });
    return this.adopt(child, exited);
  }

  /** Remembers a child started elsewhere (the service launcher) until it exits. */
  adopt(child: ChildProcess, exited: Promise<Exit>): Tracked {
    const entry = { child, exited };
    this.#children.add(entry);
    void exited.then(() => this.#children.delete(entry));
    return entry;
  }

  /** SIGTERM, then SIGKILL for whatever has not exited within the grace period. */
  async stop(child: ChildProcess, exited: Promise<Exit>, graceMs = 5000): Promise<Exit> {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    try {
      return await withDeadline(exited, graceMs, `PID ${child.pid} to exit after SIGTERM`);
    } catch {
      child.kill('SIGKILL');
      return exited;
    }
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#children].map(({ child, exited }) => this.stop(child, exited)));
    for (const fn of this.#cleanups) fn();
    this.#cleanups.clear();
  }
}

/** Collects a child's output, keeping the last maxChars for error messages. */
export function collect(stream: Readable | null, maxChars = 20_000): () => string {
  let text = '';
  stream?.setEncoding('utf8').on('data', (chunk: string) => {
    text = (text + chunk).slice(-maxChars);
  });
  return () => text;
}

/** A port free right now on 127.0.0.1 (the service is given it in PORT). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** One GET on a fresh connection; resolves with status and body, rejects on socket errors or timeout. */
export function httpGet(url: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Polls url until it answers 200, every intervalMs, failing at the deadline or when the process
 * exits first. Resolves with the hrtime (ns) of the first 200.
 */
export async function waitFor200(
  url: string,
  { exited, timeoutMs = 15_000, intervalMs = 2, what = url }: { exited?: Promise<Exit>; timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<bigint> {
  const deadline = Date.now() + timeoutMs;
  let gone: Exit | undefined;
  void exited?.then((code) => {
    gone = code;
  });
  let last: string;
  for (;;) {
    if (gone !== undefined) throw new Error(`${what} exited (${gone}) before answering 200`);
    try {
      const { status } = await httpGet(url, 1000);
      if (status === 200) return process.hrtime.bigint();
      last = `HTTP ${status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() >= deadline) throw new Error(`${what} did not answer 200 within ${timeoutMs} ms (last: ${last})`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A server the bench started: where it answers, its PID, and how to stop it. */
export interface RunningServer {
  readonly label: string;
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<Exit>;
}

export interface RunningService extends RunningServer {
  /** From spawning node to the first 200 from /health, in ms. */
  readonly startToHealthyMs: number;
  /** CPU time it had used when it answered that first 200, in ms. */
  readonly cpuMsAtHealthy: number;
  /** Its stderr and, when stdout was not sent to a file, stdout. */
  output(): string;
  /** Its stdout (the JSON log), read from the file it writes to. */
  log(): string;
  /** That file (removed when the service is stopped). */
  readonly logFile: string;
}

/**
 * The environment the bench runs the service with: the production defaults (access log at info,
 * metrics, request ids), plus the image's own settings (NODE_ENV, LIBC from the Dockerfile).
 */
export const SERVICE_ENV: Readonly<Record<string, string>> = {
  NODE_ENV: 'production',
  LIBC: 'glibc',
  LOG_LEVEL: 'info',
  SHUTDOWN_DRAIN_DELAY_MS: '0',
  // Production serves /metrics on a port of its own (9100); here a free one, so servers can run side by side.
  METRICS_PORT: '0',
};

export interface ServiceStart {
  readonly env?: Record<string, string>;
  readonly label?: string;
  readonly node?: string;
  readonly nodeArgs?: readonly string[];
  readonly main?: string;
}

/**
 * Starts the built service on the service core (through the tests' launcher, with a temp database
 * and a free port on loopback, its log written to a file there) and waits for its first 200 from /health.
 */
export async function startService(group: ProcessGroup, pinning: Pinning, start: ServiceStart = {}): Promise<RunningService> {
  const label = start.label ?? 'service';
  const dataDir = mkdtempSync(join(tmpdir(), 'accountservice-bench-'));
  const removeDataDir = (): void => rmSync(dataDir, { recursive: true, force: true });
  const forget = group.onStopped(removeDataDir);
  const port = await freePort();
  const logFile = join(dataDir, 'stdout.log');
  const startedAt = process.hrtime.bigint();
  const raw = startServiceRaw({
    dataDir,
    env: { ...cleanEnv(), ...SERVICE_ENV, PORT: String(port), ...start.env },
    node: start.node,
    nodeArgs: start.nodeArgs,
    main: start.main,
    wrap: (command, args) => pinning.command(SERVICE_CORE, command, args),
    stdoutFile: logFile,
  });
  group.adopt(raw.child, raw.exited);
  const url = `http://127.0.0.1:${port}`;
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const service = {
    label,
    url,
    port,
    pid: raw.pid,
    output: () => raw.stderr().trim(),
    log,
    logFile,
    async stop(): Promise<Exit> {
      const code = await group.stop(raw.child, raw.exited);
      removeDataDir();
      forget();
      return code;
    },
  };
  try {
    const healthyAt = await waitFor200(`${url}/health`, { exited: raw.exited, what: label });
    const cpuMsAtHealthy = cpuSecondsOf(raw.pid) * 1000;
    return { ...service, startToHealthyMs: Number(healthyAt - startedAt) / 1e6, cpuMsAtHealthy };
  } catch (error) {
    const tail = `${log().slice(-2000)}${service.output()}`;
    await service.stop();
    throw new Error(`${(error as Error).message}\n${tail}`, { cause: error });
  }
}

/** Runs a bench TypeScript program (bench/programs/*.ts) through tsx on the given core. */
export function spawnProgram(group: ProcessGroup, pinning: Pinning, core: number, script: string, args: string[] = []): Tracked {
  const [command, commandArgs] = pinning.command(core, process.execPath, ['--import', 'tsx', join(BENCH_DIR, 'programs', script), ...args]);
  return group.spawn(command, commandArgs, { cwd: ROOT, env: cleanEnv({ PORT: '0', HOST: '127.0.0.1' }), stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * A reference server from bench/programs (raw-server.ts: the node:http ceiling; fastify-server.ts:
 * bare Fastify) on the service core, answering the service's bytes from memory.
 */
export async function startReferenceServer(
  group: ProcessGroup,
  pinning: Pinning,
  script: string,
  label: string,
  args: string[] = [],
): Promise<RunningServer> {
  const { child, exited } = spawnProgram(group, pinning, SERVICE_CORE, script, args);
  const stderr = collect(child.stderr);
  const port = await withDeadline(
    new Promise<number>((resolve, reject) => {
      let buffered = '';
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        buffered += chunk;
        const match = /\{"port":(\d+)\}/.exec(buffered);
        if (match) resolve(Number(match[1]));
      });
      void exited.then((code) => reject(new Error(`${label} exited (${code}): ${stderr()}`)));
    }),
    30_000,
    `${label} to print its port`,
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor200(`${url}/health`, { exited, what: label });
  return { label, url, port, pid: child.pid!, stop: () => group.stop(child, exited) };
}

/** A temp dir for scratch files; removed by the returned function. */
export function scratchDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'accountservice-bench-scratch-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A process's VmRSS, VmHWM (peak), and how much of the RSS is anonymous memory and file pages, MB. */
export interface Memory {
  readonly rssMb: number;
  readonly peakRssMb: number;
  readonly anonMb: number;
  readonly fileMb: number;
}

export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024, anonMb: kb('RssAnon') / 1024, fileMb: kb('RssFile') / 1024 };
}

const CLOCK_TICKS_PER_S = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/** CPU seconds a process has used so far, all its threads, user and system (/proc/PID/stat). */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The fields after the command name (which may hold spaces, hence the last ')'): utime is the 14th field.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
}
