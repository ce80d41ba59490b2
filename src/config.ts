// Reads and validates every setting once, from an environment object passed in.
// The only module that knows the environment variable names; nothing else reads process.env.

import { isIP } from 'node:net';
import { MIN_TOKEN_LENGTH } from 'health-views';
import { oneLine } from './shared/one-line.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const HEALTH_DETAILS_MODES = ['never', 'always', 'token'] as const;
export type HealthDetailsMode = (typeof HEALTH_DETAILS_MODES)[number];

export const DB_ON_DAMAGE_MODES = ['fail', 'rebuild'] as const;
export type DbOnDamage = (typeof DB_ON_DAMAGE_MODES)[number];

/** What NODE_ENV accepts (or unset); anything else is refused, not run as development. */
export const NODE_ENVS = ['production', 'development', 'test'] as const;

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dbPath: string;
  /** What start-up does with a damaged database file: exit (fail) or move it aside and reseed (rebuild). */
  readonly dbOnDamage: DbOnDamage;
  readonly seedAccounts: number;
  readonly logLevel: LogLevel;
  readonly logPretty: boolean;
  readonly production: boolean;
  readonly metrics: {
    /** Request and health metrics, served at GET /metrics (METRICS=on|off). */
    readonly enabled: boolean;
    /**
     * A separate port for GET /metrics; undefined: the service's own port (METRICS_PORT; default
     * the service port, PRODUCTION_METRICS_PORT with NODE_ENV=production).
     */
    readonly port: number | undefined;
    /** Where that port listens (METRICS_HOST; default loopback: scrapers from outside must be let in). */
    readonly host: string;
  };
  readonly log: {
    /** One line per request: info, debug for /health probes and scrapes (ACCESS_LOG=on|off). */
    readonly access: boolean;
    /** Most bytes of log lines held while stdout does not take them; more are dropped (LOG_BUFFER_BYTES). */
    readonly bufferBytes: number;
  };
  readonly http: {
    /** A connection with more answers queued than this is closed (HTTP_MAX_QUEUED_RESPONSES). */
    readonly maxQueuedResponses: number;
    /** A connection whose queued answers hold more bytes than this is closed (HTTP_MAX_QUEUED_BYTES). */
    readonly maxQueuedBytes: number;
    /** Most connections open on PORT at once; more are closed as they arrive (HTTP_MAX_CONNECTIONS). */
    readonly maxConnections: number;
  };
  readonly health: {
    readonly details: HealthDetailsMode;
    /** Required when details is 'token'; never logged. */
    readonly token: string | undefined;
    /** How often background checks (database) run. */
    readonly checkIntervalMs: number;
    /** How long one check may take before it counts as DOWN. */
    readonly checkTimeoutMs: number;
    /** Event loop delay above which liveness is DOWN. */
    readonly eventLoopDelayLimitMs: number;
    /**
     * How long the database must have failed before /health (the view Docker's HEALTHCHECK probes,
     * so the one that gets a container replaced) turns DOWN for it; 0: at once, as the article.
     * /health/ready always reacts at once.
     */
    readonly replaceAfterMs: number;
    /** Flap damping of the database check; the defaults (1, 1, off) react at once, as the article. */
    readonly database: {
      /** Unset: one failure, or, with failureGraceMs alone, time alone decides. */
      readonly failureThreshold: number | undefined;
      readonly successThreshold: number;
      readonly failureGraceMs: number | undefined;
    };
  };
  readonly testability: {
    readonly enabled: boolean;
  };
  /**
   * The address an account answer names in `servedBy` (SERVED_BY); undefined: worked out at start
   * from the network interfaces, as the original does.
   */
  readonly servedBy: string | undefined;
  readonly shutdown: {
    /** Time between "not ready" and closing the listener, so load balancers stop sending. */
    readonly drainDelayMs: number;
    /** Deadline for in-flight requests once the listener is closed. */
    readonly timeoutMs: number;
    /**
     * The orchestrator's stop grace period (Swarm stop_grace_period, Kubernetes
     * terminationGracePeriodSeconds): the service warns at start when its shutdown cannot fit.
     */
    readonly gracePeriodMs: number;
  };
  readonly watch: {
    /** Most concurrent /health/watch streams; more are refused with 503. */
    readonly maxSubscribers: number;
    readonly heartbeatMs: number;
  };
}

/** One invalid setting: names the variable, what it accepts, and what it got. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Where /metrics is served by default with NODE_ENV=production: Prometheus' node-exporter habit. */
export const PRODUCTION_METRICS_PORT = 9100;

/** The metrics port's address unless METRICS_HOST says otherwise: reachable from this machine only. */
export const DEFAULT_METRICS_HOST = '127.0.0.1';

/**
 * Real clients rarely pipeline at all, and benchmark tools a few requests deep; a connection with
 * more than this many answers waiting is not reading them.
 */
export const DEFAULT_MAX_QUEUED_RESPONSES = 32;

/**
 * Room for several of the service's largest answers at once (/metrics, ?details with a full
 * history: docs/reliability.md gives their sizes), and no connection holds more.
 */
export const DEFAULT_MAX_QUEUED_BYTES = 128 * 1024;

/** Enough for a few seconds of a busy access log while a log driver restarts. */
export const DEFAULT_LOG_BUFFER_BYTES = 4 * 1024 * 1024;

/** Most connections open on PORT at once, by default (HTTP_MAX_CONNECTIONS). */
export const DEFAULT_MAX_CONNECTIONS = 1024;

export const TESTABILITY_PRODUCTION_OVERRIDE = 'I_UNDERSTAND_TESTABILITY_IS_UNSAFE_IN_PRODUCTION';

/** Parses the environment into a Config, or throws ConfigError listing every invalid variable. */
export function loadConfig(env: Env): Config {
  const problems: string[] = [];
  const read = new EnvReader(env, problems);
  // Read first, so their problems come first: production decides defaults and what is refused.
  const production = readNodeEnv(read, problems) === 'production';
  const disclosure = readDisclosure(read, env, problems, production);
  const testability = readTestability(read, problems, production);
  const servedBy = readServedBy(read, problems);
  const config: Config = {
    port: read.int('PORT', 6767, 0, 65535),
    host: read.string('HOST', '0.0.0.0'),
    dbPath: read.string('DB_PATH', 'data/accounts.mdb'),
    dbOnDamage: read.oneOf('DB_ON_DAMAGE', DB_ON_DAMAGE_MODES, 'fail'),
    seedAccounts: read.int('SEED_ACCOUNTS', 100, 0, 1_000_000),
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    logPretty: read.bool('LOG_PRETTY', false),
    production,
    metrics: readMetrics(read, production),
    log: {
      access: read.bool('ACCESS_LOG', true, 'on or off'),
      bufferBytes: read.int('LOG_BUFFER_BYTES', DEFAULT_LOG_BUFFER_BYTES, 64 * 1024, 256 * 1024 * 1024),
    },
    http: {
      maxQueuedResponses: read.int('HTTP_MAX_QUEUED_RESPONSES', DEFAULT_MAX_QUEUED_RESPONSES, 1, 10_000),
      maxQueuedBytes: read.int('HTTP_MAX_QUEUED_BYTES', DEFAULT_MAX_QUEUED_BYTES, 16 * 1024, 1024 ** 3),
      maxConnections: read.int('HTTP_MAX_CONNECTIONS', DEFAULT_MAX_CONNECTIONS, 1, 1_000_000),
    },
    health: readHealth(read, disclosure),
    testability,
    servedBy,
    shutdown: readShutdown(read),
    watch: readWatch(read),
  };
  checkListeners(config, env, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Who sees health details (HEALTH_DETAILS), and the token that shows them when it is 'token'. */
function readDisclosure(
  read: EnvReader,
  env: Env,
  problems: string[],
  production: boolean,
): Pick<Config['health'], 'details' | 'token'> {
  const details = read.oneOf('HEALTH_DETAILS', HEALTH_DETAILS_MODES, production ? 'never' : 'always');
  const token = read.string('HEALTH_TOKEN', '');
  if (details === 'token' && token.length < MIN_TOKEN_LENGTH) {
    problems.push(
      `HEALTH_TOKEN must be set to a secret of at least ${MIN_TOKEN_LENGTH} characters when HEALTH_DETAILS=token`,
    );
  }
  if (details !== 'token' && token !== '') {
    // A token that is ignored is a trap: with 'always' a wrong token still sees details, with
    // 'never' the right one sees none. Saying so at start beats either surprise.
    problems.push(
      `HEALTH_TOKEN is set but HEALTH_DETAILS is ${details}${defaulted(env.HEALTH_DETAILS) ? ' (its default here)' : ''}, ` +
        'so the token would be ignored: set HEALTH_DETAILS=token to give details to its bearer, or unset HEALTH_TOKEN',
    );
  }
  return { details, token: token === '' ? undefined : token };
}

function readTestability(read: EnvReader, problems: string[], production: boolean): Config['testability'] {
  const enabled = read.bool('TESTABILITY_ENABLED', false);
  const override = read.bool(TESTABILITY_PRODUCTION_OVERRIDE, false);
  if (enabled && production && !override) {
    problems.push(
      `TESTABILITY_ENABLED=true is refused with NODE_ENV=production: the testability routes let anyone ` +
        `make the service unhealthy. Set ${TESTABILITY_PRODUCTION_OVERRIDE}=true as well only if you really mean it`,
    );
  }
  return { enabled };
}

function readServedBy(read: EnvReader, problems: string[]): string | undefined {
  const servedBy = read.string('SERVED_BY', '');
  if (servedBy !== '' && !SERVED_BY_PATTERN.test(servedBy)) {
    problems.push(
      `SERVED_BY must be 1 to 253 letters, digits, dots, colons, hyphens or underscores, such as 10.0.0.5 or ` +
        `accountservice-1 (got ${quote(servedBy)})`,
    );
  }
  return servedBy === '' ? undefined : servedBy;
}

function readHealth(read: EnvReader, disclosure: Pick<Config['health'], 'details' | 'token'>): Config['health'] {
  return {
    ...disclosure,
    checkIntervalMs: read.int('HEALTH_CHECK_INTERVAL_MS', 1000, 10, 3_600_000),
    checkTimeoutMs: read.int('HEALTH_CHECK_TIMEOUT_MS', 500, 1, 60_000),
    eventLoopDelayLimitMs: read.int('HEALTH_EVENT_LOOP_LIMIT_MS', 1000, 10, 60_000),
    database: {
      failureThreshold: read.optionalInt('HEALTH_DB_FAILURE_THRESHOLD', 1, 1000),
      successThreshold: read.int('HEALTH_DB_SUCCESS_THRESHOLD', 1, 1, 1000),
      failureGraceMs: read.optionalInt('HEALTH_DB_FAILURE_GRACE_MS', 0, 3_600_000),
    },
    replaceAfterMs: read.int('HEALTH_REPLACE_AFTER_MS', 0, 0, 3_600_000),
  };
}

function readShutdown(read: EnvReader): Config['shutdown'] {
  return {
    drainDelayMs: read.int('SHUTDOWN_DRAIN_DELAY_MS', 3000, 0, 600_000),
    timeoutMs: read.int('SHUTDOWN_TIMEOUT_MS', 5000, 1, 600_000),
    gracePeriodMs: read.int('SHUTDOWN_GRACE_PERIOD_MS', 10_000, 1, 3_600_000),
  };
}

function readWatch(read: EnvReader): Config['watch'] {
  return {
    maxSubscribers: read.int('HEALTH_WATCH_MAX_SUBSCRIBERS', 16, 0, 10_000),
    // Below the server's 70 s idle-socket timeout, or a quiet stream would be cut.
    heartbeatMs: read.int('HEALTH_WATCH_HEARTBEAT_MS', 15_000, 100, 60_000),
  };
}

function defaulted(value: string | undefined): boolean {
  return (value ?? '').trim() === '';
}

/**
 * Production or not decides what is shown and where, so a value that is almost production
 * ("Production", "prod") is refused rather than run as development, and so is any other.
 */
function readNodeEnv(read: EnvReader, problems: string[]): string | undefined {
  const value = read.string('NODE_ENV', '');
  if (value === '' || (NODE_ENVS as readonly string[]).includes(value)) return value;
  const hint = (NODE_ENVS as readonly string[]).includes(value.toLowerCase())
    ? `; it is case-sensitive: did you mean ${value.toLowerCase()}?`
    : '';
  problems.push(`NODE_ENV must be production, development or test, or unset (got ${quote(value)})${hint}`);
  return undefined;
}

function readMetrics(read: EnvReader, production: boolean): Config['metrics'] {
  return {
    enabled: read.bool('METRICS', true, 'on or off'),
    // In production a port of its own by default: /metrics lists every check with its status and
    // timings, which the service port (often public) must not give away.
    port:
      read.string('METRICS_PORT', production ? String(PRODUCTION_METRICS_PORT) : 'service') === 'service'
        ? undefined
        : read.int('METRICS_PORT', PRODUCTION_METRICS_PORT, 0, 65535, 'or "service" (serve /metrics on PORT)'),
    host: read.string('METRICS_HOST', DEFAULT_METRICS_HOST),
  };
}

/** What the service listens on: addresses that can be one, two ports apart, no METRICS_HOST to ignore. */
function checkListeners(config: Config, env: Env, problems: string[]): void {
  const { metrics } = config;
  if (metrics.port !== undefined && metrics.port !== 0 && metrics.port === config.port) {
    problems.push(
      `METRICS_PORT must differ from PORT (both are ${config.port}); set METRICS_PORT=service to serve /metrics on PORT`,
    );
  }
  checkHost('HOST', config.host, problems);
  if (metrics.port !== undefined) checkHost('METRICS_HOST', metrics.host, problems);
  if (metrics.enabled && metrics.port === undefined && !defaulted(env.METRICS_HOST)) {
    // Ignored, it would leave an operator believing the port is bound where they said.
    problems.push(
      'METRICS_HOST is set but /metrics is served on PORT (METRICS_PORT is service' +
        `${defaulted(env.METRICS_PORT) ? ', its default here' : ''}), so it would be ignored: ` +
        'set METRICS_PORT to give /metrics a port of its own, or unset METRICS_HOST',
    );
  }
}

/** A host name as RFC 1123 has it: dot-separated labels of letters, digits and inner hyphens. */
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** Syntax only: whether the name resolves, and to an address of this machine, is listen-addresses.ts' job. */
function checkHost(name: string, host: string, problems: string[]): void {
  if (isIP(host) !== 0 || HOST_NAME.test(host)) return;
  problems.push(
    `${name} must be an IP address or a host name, without scheme or port (such as 0.0.0.0, 127.0.0.1 or ::) ` +
      `(got ${quote(host)})`,
  );
}

/** A value as a problem quotes it: in double quotes, escaped as JSON and kept to one line. */
function quote(value: string): string {
  return oneLine(JSON.stringify(value));
}

/** What may go into the `servedBy` field as it is: no quoting or escaping is ever needed. */
const SERVED_BY_PATTERN = /^[A-Za-z0-9.:_-]{1,253}$/;

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off']);

class EnvReader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  private raw(name: string): string | undefined {
    const value = this.env[name];
    if (value === undefined) return undefined;
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  optionalInt(name: string, min: number, max: number): number | undefined {
    return this.raw(name) === undefined ? undefined : this.int(name, min, min, max);
  }

  int(name: string, fallback: number, min: number, max: number, alternative?: string): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      const accepts = `a whole number from ${min} to ${max}${alternative === undefined ? '' : ` ${alternative}`}`;
      this.problems.push(`${name} must be ${accepts} (got ${quote(value)})`);
      return fallback;
    }
    return parsed;
  }

  bool(name: string, fallback: boolean, words = 'true or false'): boolean {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const lower = value.toLowerCase();
    if (TRUE_WORDS.has(lower)) return true;
    if (FALSE_WORDS.has(lower)) return false;
    this.problems.push(`${name} must be ${words} (got ${quote(value)})`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problems.push(`${name} must be one of ${allowed.join(', ')} (got ${quote(value)})`);
    return fallback;
  }
}

/**
 * The warning to log when the shutdown sequence can outlast the orchestrator's grace period
 * (it would SIGKILL the process mid-drain), or undefined when it fits.
 */
export function shutdownBudgetWarning(shutdown: Config['shutdown']): string | undefined {
  const needed = shutdown.drainDelayMs + shutdown.timeoutMs;
  if (needed <= shutdown.gracePeriodMs) return undefined;
  return (
    `shutdown may be cut short: SHUTDOWN_DRAIN_DELAY_MS ${shutdown.drainDelayMs} ms + SHUTDOWN_TIMEOUT_MS ` +
    `${shutdown.timeoutMs} ms = ${needed} ms, more than SHUTDOWN_GRACE_PERIOD_MS ${shutdown.gracePeriodMs} ms ` +
    `(the stop grace period the orchestrator gives before SIGKILL); lower the first two or raise the grace period`
  );
}
