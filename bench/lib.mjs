// What the benchmark driver is made of: starting and stopping the processes it measures (by PID,
// also on failure), pinning them to cores, running the load tool, and small statistics.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** What npm start and the image run: the bundle of the service and its JavaScript dependencies. */
export const SERVICE_MAIN = join(ROOT, 'dist/accountservice.cjs');
/** The same code unbundled (tsc's output), for profiles that attribute time to each package's files. */
export const SERVICE_MAIN_UNBUNDLED = join(ROOT, 'dist/src/main.js');
/** The built probe CLI (CommonJS: it starts faster than an ES module). */
export const HEALTHCHECKER = join(ROOT, 'dist/healthchecker/healthchecker.cjs');

/** The built healthchecker's path, or undefined when it is not built. */
export function findHealthchecker() {
  return existsSync(HEALTHCHECKER) ? HEALTHCHECKER : undefined;
}

/** What an endpoint's load asks for: all 100 seeded accounts in turn, or /health. */
export const ENDPOINTS = ['accounts', 'health'];

export async function endpointPaths(endpoint) {
  if (!ENDPOINTS.includes(endpoint)) throw new Error(`unknown endpoint ${JSON.stringify(endpoint)}: use ${ENDPOINTS.join(' or ')}`);
  if (endpoint === 'health') return ['/health'];
  // The service's own seed, so the ids asked for are the ids stored.
  const { seedAccounts } = await import('../dist/src/accounts/seed.js');
  return Array.from(seedAccounts(100), (account) => `/accounts/${account.id}`);
}

export const BENCH_DIR = join(ROOT, 'bench');

/**
 * `--name value` options of the bench's small scripts, checked against spec ({ name: { fallback,
 * whole: true for a whole number >= 1, oneOf: [...] } }). An unknown name, a missing value or a bad
 * one ends the script with the problem and its usage, exit 2: a typo must not measure something else.
 */
export function parseCliOptions(argv, spec, usage) {
  const fail = (problem) => {
    process.stderr.write(`${problem}\nusage: ${usage}\n`);
    process.exit(2);
  };
  const options = Object.fromEntries(Object.entries(spec).map(([name, rule]) => [name, rule.fallback]));
  for (let i = 0; i < argv.length; i += 2) {
    const name = /^--(.+)$/.exec(argv[i])?.[1];
    if (name === undefined || !(name in spec)) fail(`unknown argument ${argv[i]}`);
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) fail(`--${name} needs a value`);
    const rule = spec[name];
    if (rule.whole) {
      if (!/^[1-9][0-9]*$/.test(value)) fail(`--${name} must be a whole number from 1 (got ${value})`);
      options[name] = Number(value);
    } else if (rule.oneOf !== undefined && !rule.oneOf.includes(value)) {
      fail(`--${name} must be one of ${rule.oneOf.join(', ')} (got ${value})`);
    } else {
      options[name] = value;
    }
  }
  return options;
}

/** The service's core and the load generator's, when there are two cores to split. */
export const SERVICE_CORE = 0;
export const LOAD_CORE = 1;

/** Finds an executable on PATH (or at its usual Debian place); undefined when absent. */
export function findExecutable(name) {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/usr/local/bin']) {
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/**
 * The environment of every process the bench starts: only what it needs. NODE_EXTRA_CA_CERTS in
 * particular is left out (it costs ~50 ms per Node start here, and a container has no such var).
 */
export function cleanEnv(extra = {}) {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  if (process.env.HOME !== undefined) env.HOME = process.env.HOME;
  return { ...env, ...extra };
}

export function createPinning(cores) {
  const taskset = findExecutable('taskset');
  const enabled = taskset !== undefined && cores >= 2;
  return {
    enabled,
    describe: enabled
      ? `service and raw server on core ${SERVICE_CORE}, load generator, prober and bench driver on core ${LOAD_CORE} (taskset)`
      : `not pinned (${taskset === undefined ? 'taskset not installed' : `${cores} core(s)`})`,
    /** [command, args] that runs command on the given core when pinning is possible. */
    command(core, command, args) {
      return enabled ? [taskset, ['-c', String(core), command, ...args]] : [command, args];
    },
    /** Moves this process (all its threads) to the load core, off the service's core. */
    pinSelf() {
      if (enabled) spawnSync(taskset, ['-a', '-p', '-c', String(LOAD_CORE), String(process.pid)], { stdio: 'ignore' });
    },
  };
}

/** Every process the bench starts, so each one is stopped by its PID, whatever happens. */
export class ProcessGroup {
  #children = new Set();
  #cleanups = new Set();

  /** Runs fn once the processes are stopped (temp dirs), unless forget() is called first. */
  onStopped(fn) {
    this.#cleanups.add(fn);
    return () => this.#cleanups.delete(fn);
  }

  /** spawn(), remembered until it exits. taskset execs its command, so the PID is the command's. */
  spawn(command, args, options) {
    const child = spawn(command, args, options);
    const entry = { child, exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal))) };
    this.#children.add(entry);
    void entry.exited.then(() => this.#children.delete(entry));
    child.once('error', () => this.#children.delete(entry));
    return { child, exited: entry.exited };
  }

  /** SIGTERM, then SIGKILL for whatever has not exited within the grace period. */
  async stop(child, exited, graceMs = 5000) {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    let timer;
    const late = new Promise((resolve) => {
      timer = setTimeout(() => resolve('late'), graceMs);
    });
    const outcome = await Promise.race([exited, late]);
    clearTimeout(timer);
    if (outcome !== 'late') return outcome;
    child.kill('SIGKILL');
    return exited;
  }

  async stopAll() {
    await Promise.all([...this.#children].map(({ child, exited }) => this.stop(child, exited)));
    for (const fn of this.#cleanups) fn();
    this.#cleanups.clear();
  }
}

/** A port free right now on 127.0.0.1 (the service is given it in PORT). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** One GET on a fresh connection; resolves with status and body, rejects on socket errors or timeout. */
export function httpGet(url, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
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
 * exits first. Resolves with the hrtime (ns, bigint) of the first 200.
 */
export async function waitFor200(url, { exited, timeoutMs = 15_000, intervalMs = 2, what = url } = {}) {
  const deadline = Date.now() + timeoutMs;
  let gone;
  void exited?.then((code) => {
    gone = code;
  });
  let last = 'no answer yet';
  for (;;) {
    if (gone !== undefined) throw new Error(`${what} exited (${gone}) before answering 200`);
    try {
      const { status } = await httpGet(url, 1000);
      if (status === 200) return process.hrtime.bigint();
      last = `HTTP ${status}`;
    } catch (error) {
      last = error.message;
    }
    if (Date.now() >= deadline) throw new Error(`${what} did not answer 200 within ${timeoutMs} ms (last: ${last})`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Collects a child's output, keeping the last maxChars for error messages. */
export function collect(stream, maxChars = 20_000) {
  let text = '';
  stream.setEncoding('utf8').on('data', (chunk) => {
    text = (text + chunk).slice(-maxChars);
  });
  return () => text;
}

/**
 * Starts the built service on the service core with the bench settings (warn-level logs, no drain
 * delay, a temp database, a free port on loopback) and waits for its first 200 from /health.
 */
export async function startService(group, pinning, { env = {}, label = 'service', nodeArgs = [], main = SERVICE_MAIN } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'accountservice-bench-'));
  const removeDataDir = () => rmSync(dataDir, { recursive: true, force: true });
  const forget = group.onStopped(removeDataDir);
  const port = await freePort();
  const [command, args] = pinning.command(SERVICE_CORE, process.execPath, [...nodeArgs, main]);
  const startedAt = process.hrtime.bigint();
  const { child, exited } = group.spawn(command, args, {
    cwd: ROOT,
    env: cleanEnv({
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      DB_PATH: join(dataDir, 'accounts.mdb'),
      LOG_LEVEL: 'warn',
      SHUTDOWN_DRAIN_DELAY_MS: '0',
      ...env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  const url = `http://127.0.0.1:${port}`;
  const service = {
    label,
    url,
    port,
    pid: child.pid,
    child,
    exited,
    output: () => `${stdout()}${stderr()}`.trim(),
    async stop() {
      const code = await group.stop(child, exited);
      removeDataDir();
      forget();
      return code;
    },
  };
  try {
    const healthyAt = await waitFor200(`${url}/health`, { exited, what: label });
    return { ...service, startToHealthyMs: Number(healthyAt - startedAt) / 1e6 };
  } catch (error) {
    await service.stop();
    throw new Error(`${error.message}\n${service.output()}`);
  }
}

/**
 * A reference server from bench/ (raw-server.mjs: the node:http ceiling; fastify-server.mjs: bare
 * Fastify) on the service core, answering the service's bytes from memory.
 */
export async function startReferenceServer(group, pinning, script, label) {
  const [command, args] = pinning.command(SERVICE_CORE, process.execPath, [join(BENCH_DIR, script)]);
  const { child, exited } = group.spawn(command, args, {
    cwd: ROOT,
    env: cleanEnv({ PORT: '0', HOST: '127.0.0.1' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr = collect(child.stderr);
  const port = await new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      buffered += chunk;
      const match = /\{"port":(\d+)\}/.exec(buffered);
      if (match) resolve(Number(match[1]));
    });
    void exited.then((code) => reject(new Error(`${label} exited (${code}): ${stderr()}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor200(`${url}/health`, { exited, what: label });
  return { label, url, port, pid: child.pid, stop: () => group.stop(child, exited) };
}

/**
 * Reads a running process's VmRSS and VmHWM (peak), and how much of the RSS is anonymous memory
 * (heaps) and how much file pages (the node binary, shared libraries, the mapped database), in MB.
 */
export function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024, anonMb: kb('RssAnon') / 1024, fileMb: kb('RssFile') / 1024 };
}

const CLOCK_TICKS_PER_S = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/**
 * CPU seconds a process has used so far, all its threads, user and system (/proc/PID/stat).
 * CPU per request does not depend on how busy the rest of the machine is, unlike req/s.
 */
export function cpuSecondsOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The fields after the command name (which may hold spaces, hence the last ')'): utime is the 14th field.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
}

/**
 * Load generators. Each run() sends GETs for paths in turn to baseUrl for durationS seconds over
 * `connections` keep-alive connections, from the load core, and resolves with one summary.
 */
export function createLoadTool(name, pinning, group) {
  const wrk = findExecutable('wrk');
  const chosen = name ?? (wrk === undefined ? 'autocannon' : 'wrk');
  if (chosen === 'wrk' && wrk === undefined) throw new Error('--tool wrk: wrk is not installed (apt-get install wrk)');
  const version =
    chosen === 'wrk'
      ? (/wrk (\S+)/.exec(spawnSync(wrk, ['-v'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? 'unknown')
      : JSON.parse(readFileSync(join(ROOT, 'node_modules/autocannon/package.json'), 'utf8')).version;

  async function run({ baseUrl, paths, durationS, connections, serverPid }) {
    const cpuBefore = serverPid === undefined ? undefined : cpuSecondsOf(serverPid);
    const [command, args] =
      chosen === 'wrk'
        ? pinning.command(LOAD_CORE, wrk, [
            '-t1',
            `-c${connections}`,
            `-d${durationS}s`,
            '--timeout',
            '5s',
            '-s',
            join(BENCH_DIR, 'wrk.lua'),
            baseUrl,
            '--',
            ...paths,
          ])
        : pinning.command(LOAD_CORE, process.execPath, [
            join(BENCH_DIR, 'autocannon-load.mjs'),
            JSON.stringify({ url: baseUrl, paths, durationS, connections }),
          ]);
    const { child, exited } = group.spawn(command, args, { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout = collect(child.stdout);
    const stderr = collect(child.stderr);
    const code = await exited;
    const line = /BENCH_RESULT (\{.*\})/.exec(stdout());
    if (code !== 0 || line === null) {
      throw new Error(`${chosen} failed (exit ${code}) against ${baseUrl}: ${stderr() || stdout()}`);
    }
    const raw = JSON.parse(line[1]);
    const cpuS = cpuBefore === undefined ? undefined : cpuSecondsOf(serverPid) - cpuBefore;
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
      ...(cpuS === undefined ? {} : { serverCpuS: cpuS }),
    };
  }

  return { name: chosen, version, run };
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Creates a temp dir for scratch files; removed by the returned function. */
export function scratchDir() {
  const dir = mkdtempSync(join(tmpdir(), 'accountservice-bench-scratch-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
