// The shutdown's options, checked once and given their defaults: a mistake is an error naming the
// option (as validate.ts does for createHealth), never a shutdown that silently does less.

import { constants } from 'node:os';
import { checkedClock } from './clock.js';
import { MAX_TIMER_MS } from './scheduler.js';
import type {
  CleanupHook,
  ClosableServer,
  Clock,
  Flag,
  Health,
  HttpServerLike,
  ShutdownEvent,
  ShutdownOptions,
} from './types.js';

/**
 * Defaults: drain + timeout is 8 s, inside Docker's and Swarm's 10 s stop grace period (Kubernetes
 * gives 30 s); 3 s of drain covers a few readiness probes and the endpoint update that follows.
 */
const SHUTDOWN_DEFAULTS = {
  signals: ['SIGTERM', 'SIGINT'],
  drainDelayMs: 3000,
  timeoutMs: 5000,
  hookTimeoutMs: 2000,
} as const;

/** A cleanup hook with its name and bound settled. */
export interface ResolvedHook {
  readonly name: string;
  readonly run: (signal: AbortSignal) => unknown;
  readonly timeoutMs: number;
}

export interface ResolvedShutdownOptions {
  readonly health: Health;
  readonly flag: Flag | undefined;
  readonly servers: readonly (HttpServerLike | ClosableServer)[];
  readonly cleanup: readonly ResolvedHook[];
  readonly signals: readonly NodeJS.Signals[];
  readonly drainDelayMs: number;
  readonly skipDrainWhenDown: string | undefined;
  readonly timeoutMs: number;
  readonly onEvent: (event: ShutdownEvent) => void;
  readonly exit: (code: number) => void;
  readonly clock: Clock;
}

export function resolveShutdownOptions(options: ShutdownOptions): ResolvedShutdownOptions {
  if (options === null || typeof options !== 'object') fail('options', 'must be an object');
  const { health } = options;
  if (health === null || typeof health !== 'object' || typeof health.close !== 'function') {
    fail('health', 'must be the registry createHealth returned');
  }
  const hookTimeoutMs = milliseconds(options.hookTimeoutMs, 'hookTimeoutMs', SHUTDOWN_DEFAULTS.hookTimeoutMs, 1);
  const drainDelayMs = milliseconds(options.drainDelayMs, 'drainDelayMs', SHUTDOWN_DEFAULTS.drainDelayMs, 0);
  const timeoutMs = milliseconds(options.timeoutMs, 'timeoutMs', SHUTDOWN_DEFAULTS.timeoutMs, 1);
  // The deadline is one timer of drain + timeout: past a Node timer's limit it would fire at once.
  if (drainDelayMs + timeoutMs > MAX_TIMER_MS) {
    fail('drainDelayMs + timeoutMs', `must be at most ${MAX_TIMER_MS} ms (got ${drainDelayMs + timeoutMs})`);
  }
  return {
    health,
    flag: options.flag === undefined ? undefined : readinessFlag(health, options.flag),
    servers: list(options.servers, 'servers').map((server, i) => checkedServer(server, `servers[${i}]`)),
    cleanup: list(options.cleanup, 'cleanup').map((hook, i) => resolveHook(hook, i, hookTimeoutMs)),
    signals: stopSignals(options.signals),
    drainDelayMs,
    skipDrainWhenDown: knownView(health, options.skipDrainWhenDown),
    timeoutMs,
    onEvent: optionalFunction(options.onEvent, 'onEvent') ?? (() => {}),
    exit: optionalFunction(options.exit, 'exit') ?? ((code) => process.exit(code)),
    clock: checkedClock(options.clock, 'shutdown option clock'),
  };
}

function fail(option: string, problem: string): never {
  throw new Error(`health-views: shutdown option ${option} ${problem}`);
}

function milliseconds(value: number | undefined, option: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > MAX_TIMER_MS) {
    // A Node timer longer than MAX_TIMER_MS fires after 1 ms: a long deadline would be none.
    const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
    fail(option, `must be a number of milliseconds from ${min} to ${MAX_TIMER_MS} (got ${shown})`);
  }
  return value;
}

function list<T>(value: readonly T[] | undefined, option: string): readonly T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(option, 'must be an array');
  // Array.isArray narrows a readonly array to any[]: keep the declared element type.
  return value as readonly T[];
}

/** The flag must read UP now and turn DOWN when set to true: healthyWhen false, not yet set. */
function readinessFlag(health: Health, name: string): Flag {
  let flag: Flag;
  try {
    flag = health.flag(name);
  } catch {
    fail('flag', `names "${name}", which is not a flag check of this registry`);
  }
  if (flag.value !== false || !flag.up) {
    fail(
      'flag',
      `"${name}" must be UP with the value false (define it with healthyWhen: false): the shutdown sets it to true`,
    );
  }
  return flag;
}

function knownView(health: Health, name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  if (!health.viewNames.includes(name)) {
    fail('skipDrainWhenDown', `names view "${name}", which is not defined (views: ${health.viewNames.join(', ')})`);
  }
  return name;
}

function stopSignals(signals: readonly NodeJS.Signals[] | undefined): readonly NodeJS.Signals[] {
  for (const signal of list(signals, 'signals')) {
    // SIGKILL and SIGSTOP cannot be caught: process.on would throw when the handler is installed.
    if (typeof signal !== 'string' || !(signal in constants.signals) || signal === 'SIGKILL' || signal === 'SIGSTOP') {
      fail('signals', `holds ${JSON.stringify(signal)}, which is not a signal a process can catch`);
    }
  }
  return signals ?? SHUTDOWN_DEFAULTS.signals;
}

function checkedServer(server: HttpServerLike | ClosableServer, option: string): HttpServerLike | ClosableServer {
  if (server === null || typeof server !== 'object' || typeof server.close !== 'function') {
    fail(option, 'must be a node:http server or an object with close() (e.g. a Fastify app)');
  }
  if ('server' in server && server.server !== undefined && !isHttpServer(server.server)) {
    fail(`${option}.server`, 'must be a node:http server');
  }
  return server;
}

/** A node:http or https server rather than something that closes itself (e.g. a Fastify app). */
export function isHttpServer(server: unknown): server is HttpServerLike {
  return (
    typeof server === 'object' &&
    server !== null &&
    typeof (server as Partial<HttpServerLike>).closeIdleConnections === 'function' &&
    typeof (server as Partial<HttpServerLike>).prependListener === 'function'
  );
}

function resolveHook(hook: CleanupHook, index: number, defaultTimeoutMs: number): ResolvedHook {
  const option = `cleanup[${index}]`;
  if (typeof hook === 'function') {
    return { name: hook.name === '' ? `cleanup #${index + 1}` : hook.name, run: hook, timeoutMs: defaultTimeoutMs };
  }
  if (hook === null || typeof hook !== 'object' || typeof hook.run !== 'function') {
    fail(option, 'must be a function or { name, run, timeoutMs? }');
  }
  if (typeof hook.name !== 'string' || hook.name === '') fail(`${option}.name`, 'must be a non-empty string');
  return {
    name: hook.name,
    run: hook.run,
    timeoutMs: milliseconds(hook.timeoutMs, `${option}.timeoutMs`, defaultTimeoutMs, 1),
  };
}

function optionalFunction<T>(value: T | undefined, option: string): T | undefined {
  if (value !== undefined && typeof value !== 'function') fail(option, 'must be a function');
  return value;
}
