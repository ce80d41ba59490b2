// Runs the built service (dist/accountservice.cjs, what npm start and the image run) as a child process on a free port
// with its own data dir: the one launcher of the tests and the bench (bench/processes.ts).

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withDeadline } from './deadline.js';
import { waitFor } from './wait.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MAIN = join(ROOT, 'dist/accountservice.cjs');
/**
 * The test build (test/support/, built by npm run build): the same service and launcher, pausing
 * in the start-up phase its arguments name: args: ['--pause-in=seeding', '--pause-ms=3000'].
 */
export const TEST_MAIN = join(ROOT, 'dist/test-support/accountservice.cjs');

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** http://127.0.0.1:PORT, once the service logged where it listens. */
  readonly url: string;
  readonly dataDir: string;
  /** Parsed pino lines so far (non-JSON stdout lines are kept as { raw }). */
  readonly logs: LogLine[];
  readonly stderr: () => string;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** The exit code (or signal name), or a rejection once timeoutMs pass without an exit. */
  exitedWithin(timeoutMs: number): Promise<number | string>;
  /** Sends the signal and waits for the exit, bounded by timeoutMs. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | string>;
  /** Kills it if still running and removes the data dir unless it was given. */
  cleanup(): Promise<void>;
}

/** One line of the service's stdout: pino's JSON (msg is always a string there), or { raw } for any other line. */
export interface LogLine {
  readonly msg?: string;
  readonly raw?: string;
  readonly level?: number;
  readonly [field: string]: unknown;
}

export interface StartOptions {
  readonly env?: Record<string, string>;
  /** Reuse a data dir (e.g. to restart on the same data); it is then not removed by cleanup(). */
  readonly dataDir?: string;
  readonly timeoutMs?: number;
  /** Wait for the listen line; false to test processes that must fail at start. */
  readonly waitForListen?: boolean;
  /** The node binary (default: the one running this process), e.g. the image's Node 24. */
  readonly node?: string;
  readonly nodeArgs?: readonly string[];
  /** The built entry point (default MAIN), e.g. another build to compare with, or TEST_MAIN. */
  readonly main?: string;
  /** Arguments after the entry point (TEST_MAIN's pause). */
  readonly args?: readonly string[];
  /** Rewrites the command line before it runs, e.g. to pin the process to a core with taskset (which execs it). */
  readonly wrap?: (command: string, args: string[]) => [string, string[]];
  /**
   * Sends stdout to this file instead of parsing it: logs then stays empty and url() unknown (give
   * PORT in env). For load runs, where parsing every access line would load the parser's core.
   */
  readonly stdoutFile?: string;
  /** A command the service runs under, e.g. ['unshare', '--pid', '--fork', '--']; child.pid is then its pid. */
  readonly prefix?: readonly string[];
}

export function assertBuilt(main = MAIN): void {
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build first (npm test does)`);
}

export function startServiceRaw(
  options: StartOptions = {},
): Omit<ServiceProcess, 'url'> & { url: () => string | undefined } {
  assertBuilt(options.main);
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'accountservice-test-'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    PORT: '0',
    HOST: '127.0.0.1',
    DB_PATH: join(dataDir, 'accounts.mdb'),
    SHUTDOWN_DRAIN_DELAY_MS: '0',
    LOG_LEVEL: 'info',
    ...options.env,
  };
  const [command, args] = (options.wrap ?? ((c: string, a: string[]) => [c, a]))(options.node ?? process.execPath, [
    ...(options.nodeArgs ?? []),
    options.main ?? MAIN,
    ...(options.args ?? []),
  ]);
  const stdoutFd = options.stdoutFile === undefined ? undefined : openSync(options.stdoutFile, 'w');
  const [file, ...rest] = [...(options.prefix ?? []), command, ...args];
  const child = spawn(file!, rest, { cwd: ROOT, env, stdio: ['ignore', stdoutFd ?? 'pipe', 'pipe'] });
  if (stdoutFd !== undefined) closeSync(stdoutFd); // the child has its own copy

  const logs: LogLine[] = [];
  let stderr = '';
  let buffered = '';
  let url: string | undefined;
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      let parsed: LogLine;
      try {
        parsed = JSON.parse(line) as LogLine;
      } catch {
        parsed = { raw: line };
      }
      logs.push(parsed);
      const match = /Starting HTTP service at (http:\/\/\S+)/.exec(parsed.msg ?? '');
      if (match) url = match[1];
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<number | string> => {
    if (!done) child.kill(signal);
    return withDeadline(exited, timeoutMs, `the service to exit after ${signal}`);
  };
  return {
    child,
    pid: child.pid!,
    url: () => url,
    dataDir,
    logs,
    stderr: () => stderr,
    exited,
    exitedWithin: (timeoutMs) => withDeadline(exited, timeoutMs, 'the service to exit'),
    stop,
    async cleanup() {
      if (!done) {
        child.kill('SIGKILL');
        await withDeadline(exited, 10_000, 'the service to exit after SIGKILL');
      }
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Starts the service and waits until it logs its listen address. */
export async function startService(options: StartOptions = {}): Promise<ServiceProcess> {
  const raw = startServiceRaw(options);
  try {
    const listening = waitFor(raw.url, { timeoutMs: options.timeoutMs ?? 15_000, what: 'the service to listen' });
    const failed = raw.exited.then((code) => {
      throw new Error(`service exited with ${code} before listening: ${raw.stderr()}`);
    });
    const url = await Promise.race([listening, failed]);
    return { ...raw, url };
  } catch (error) {
    await raw.cleanup();
    throw error;
  }
}
