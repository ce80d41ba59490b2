// Composes the service from its configuration: the one wiring that main.ts runs and the tests run.
// main.ts adds only what a process has (environment, signals, exit); tests add only what they
// reach through ServiceSeams (a store, short timeouts, a pause between phases). A bug in this
// wiring therefore fails a test.

import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Health } from 'health-views';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { AccountStore } from '../accounts/account-store.js';
import { LmdbAccountStore } from '../accounts/lmdb-account-store.js';
import { acquireLease } from '../accounts/lmdb-lease.js';
import { seedAccounts } from '../accounts/seed.js';
import { createServiceHealth } from '../health/service-health.js';
import { logHealthEvents } from '../health/transition-log.js';
import { buildApp } from '../http/app.js';
import { guardLogging } from '../http/guard-log.js';
import { createMetricsServer, METRICS_MAX_CONNECTIONS, type MetricsServer } from '../http/metrics-port.js';
import { SERVER_TIMEOUTS, type ServerTimeouts } from '../http/server-timeouts.js';
import { createMetrics, type Metrics } from '../metrics/metrics.js';
import { createLifecycle, type Lifecycle } from '../shared/lifecycle.js';
import { createTestabilitySwitch, type TestabilitySwitch } from '../testability/testability-switch.js';
import {
  createOpenedParts,
  runStartUp,
  StartAborted,
  type OpenedParts,
  type StartPhase,
  type StartStep,
} from './start-up.js';

export { StartAborted, type StartPhase };

/** What the process gives the service: main.ts passes these, and so does a test. */
export interface ServiceDeps {
  readonly logger: Logger;
  /** Writes the access lines (default: logger); main.ts gives one that writes them once per event-loop turn. */
  readonly accessLogger?: Logger;
  /** Log lines dropped because stdout did not take them (counted in the metrics). */
  readonly droppedLogLines?: () => number;
}

/**
 * The one way a test reaches inside the service (CONTRIBUTING.md, "How tests reach inside").
 * Production passes none: main.ts gets it only from the test build's entry (test/support/).
 */
export interface ServiceSeams {
  /**
   * Serve from this store, as it is, instead of the LMDB file at config.dbPath: no lease is taken
   * and nothing is seeded (a test seeds the store itself, if it wants accounts in it).
   */
  readonly store?: AccountStore;
  /** Shorter server timeouts than SERVER_TIMEOUTS, on the service port and the metrics port. */
  readonly timeouts?: Partial<ServerTimeouts>;
  /**
   * Called as each start-up phase begins, after its log line; start() waits for it and stops if the
   * signal aborted meanwhile. The test build pauses here so a signal can land in a phase.
   */
  readonly onPhase?: (phase: StartPhase, signal: AbortSignal | undefined) => Promise<void> | void;
  /**
   * Called by the process once the service listens, before its shutdown takes the stop signals
   * over; the process waits for it. The test build pauses here so a signal can land while the
   * listener opens.
   */
  readonly onListening?: () => Promise<void> | void;
}

export interface StartOptions {
  /** Aborting it stops start() between phases (and seeding between batches) with an AbortError. */
  readonly signal?: AbortSignal;
}

export interface Service {
  /** Opens the store, seeds it, runs the first checks and builds the app. Does not listen. */
  start(options?: StartOptions): Promise<void>;
  /** The phase start() is in, or reached last. */
  readonly phase: StartPhase | undefined;
  /** Listens on config.host:config.port (and the metrics port, if any); resolves with the service's URL. */
  listen(): Promise<string>;
  /** Stops accepting connections and waits for in-flight requests. Safe in any phase, and twice. */
  closeServer(): Promise<void>;
  /** Closes everything start() opened so far, the server first. Safe in any phase, and twice. */
  close(): Promise<void>;
  readonly config: Config;
  readonly lifecycle: Lifecycle;
  /** Present only when TESTABILITY_ENABLED. */
  readonly testability: TestabilitySwitch | undefined;
  /** The parts below exist once start() has reached them; reading one earlier throws. */
  readonly app: FastifyInstance;
  readonly store: AccountStore;
  /** Every check and view, the disclosure gate and the watch stream (health-views). */
  readonly health: Health;
  /** Absent with METRICS=off. */
  readonly metrics: Metrics | undefined;
  /** The separate metrics listener (METRICS_PORT), once listen() has opened it. */
  readonly metricsServer: Server | undefined;
}

export function createService(config: Config, deps: ServiceDeps, seams: ServiceSeams = {}): Service {
  const parts: ServiceParts = {
    config,
    deps,
    seams,
    timeouts: { ...SERVER_TIMEOUTS, ...seams.timeouts },
    lifecycle: createLifecycle(),
    testability: config.testability.enabled ? createTestabilitySwitch() : undefined,
    opened: createOpenedParts(),
  };
  let phase: StartPhase | undefined;
  let serverClosing: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  const closeServer = (): Promise<void> => {
    if (parts.app === undefined) return Promise.resolve();
    serverClosing ??= parts.app.close();
    return serverClosing;
  };
  return {
    start: ({ signal } = {}) =>
      runStartUp(startSteps(parts, closeServer), parts.opened, {
        signal,
        logger: deps.logger,
        onPhase: seams.onPhase,
        entered: (next) => {
          phase = next;
        },
      }),
    get phase() {
      return phase;
    },
    listen: () => listen(parts),
    closeServer,
    close() {
      closing ??= closeServer().then(() => parts.opened.closeAll());
      return closing;
    },
    config,
    lifecycle: parts.lifecycle,
    testability: parts.testability,
    get app() {
      return existing(parts.app, 'app');
    },
    get store() {
      return existing(parts.store, 'store');
    },
    get health() {
      return existing(parts.health, 'health');
    },
    get metrics() {
      return parts.metrics;
    },
    get metricsServer() {
      return parts.metricsServer?.server;
    },
  };
}

/** What the service is made of: given at creation, then opened by the start-up steps, one by one. */
interface ServiceParts {
  readonly config: Config;
  readonly deps: ServiceDeps;
  readonly seams: ServiceSeams;
  readonly timeouts: ServerTimeouts;
  readonly lifecycle: Lifecycle;
  readonly testability: TestabilitySwitch | undefined;
  /** Everything opened so far, each with its close: what a failed or stopped start closes. */
  readonly opened: OpenedParts;
  store?: AccountStore;
  health?: Health;
  /** Absent with METRICS=off. */
  metrics?: Metrics | undefined;
  app?: FastifyInstance;
  metricsServer?: MetricsServer;
}

function existing<T>(part: T | undefined, name: string): T {
  if (part === undefined) throw new Error(`the service's ${name} does not exist before start() has opened it`);
  return part;
}

/** The start-up, phase by phase; seeding only for the store the service opens itself. */
function startSteps(parts: ServiceParts, closeServer: () => Promise<void>): StartStep[] {
  const seeding: StartStep[] =
    parts.seams.store === undefined ? [{ phase: 'seeding', run: (signal) => seed(parts, signal) }] : [];
  return [
    {
      phase: 'opening the database',
      run: async () => {
        await openStore(parts);
        composeHealth(parts);
      },
    },
    ...seeding,
    {
      phase: 'first checks',
      run: () => {
        parts.lifecycle.markServing();
        return parts.health!.start();
      },
    },
    {
      phase: 'building the app',
      run: async () => {
        parts.app = await buildServiceApp(parts);
        parts.opened.add(closeServer);
      },
    },
    // Nothing opens here: listen() does, when main.ts (or a test) calls it once start() is done.
    { phase: 'listening', run: () => {} },
  ];
}

/** The seam's store as it is, or the LMDB file at DB_PATH behind its lease. */
async function openStore(parts: ServiceParts): Promise<void> {
  const { config, deps, seams, opened } = parts;
  if (seams.store !== undefined) {
    parts.store = seams.store;
  } else {
    // Before LMDB opens the file: opening it beside another container's PID 1 already does harm.
    const lease = await acquireLease(config.dbPath);
    opened.add(() => lease.release());
    parts.store = LmdbAccountStore.open(config.dbPath, {
      onDamage: config.dbOnDamage,
      onMovedAside: (moved) =>
        deps.logger.warn(moved, `${moved.file} is damaged (${moved.problem}); moved it aside to ${moved.movedTo}`),
    });
  }
  const store = parts.store;
  opened.add(() => store.close());
}

/** The health checks and views (not run yet), their transition log, and the metrics that count them. */
function composeHealth(parts: ServiceParts): void {
  const { config, deps, lifecycle, testability, opened } = parts;
  const health = createServiceHealth({
    store: parts.store!,
    lifecycle,
    testability,
    health: config.health,
    watch: config.watch,
  });
  parts.health = health;
  // Also stops the event-loop check's sampler.
  opened.add(() => health.close('shutting down'));
  logHealthEvents(health, deps.logger);
  if (!config.metrics.enabled) return;
  // Subscribed before the checks first run, so their first transitions are counted too.
  const metrics = createMetrics(health, deps.droppedLogLines ? { droppedLogLines: deps.droppedLogLines } : {});
  parts.metrics = metrics;
  opened.add(() => metrics.close());
}

async function seed(parts: ServiceParts, signal: AbortSignal | undefined): Promise<void> {
  let seeded;
  try {
    seeded = await parts.store!.seed(seedAccounts(parts.config.seedAccounts), signal ? { signal } : {});
  } catch (error) {
    if (signal?.aborted) throw new StartAborted('stopped while seeding', { cause: error });
    throw error;
  }
  parts.deps.logger.info(
    { seeded: seeded.seeded, written: seeded.written, total: seeded.total },
    `Seeded ${seeded.seeded} fake accounts...`,
  );
}

function buildServiceApp(parts: ServiceParts): Promise<FastifyInstance> {
  const { config, deps, lifecycle, testability, timeouts } = parts;
  return buildApp({
    logger: deps.logger,
    accessLogger: deps.accessLogger,
    store: parts.store!,
    health: parts.health!,
    metrics: parts.metrics,
    serveMetrics: config.metrics.port === undefined,
    accessLog: config.log.access,
    maxQueuedResponses: config.http.maxQueuedResponses,
    maxQueuedBytes: config.http.maxQueuedBytes,
    maxConnections: config.http.maxConnections,
    servedBy: config.servedBy,
    lifecycle,
    testability,
    timeouts,
  });
}

/**
 * Listens on config.host:config.port, and first on the metrics port if it has one, so scrapes work
 * once the service is up; resolves with the service's URL.
 */
async function listen(parts: ServiceParts): Promise<string> {
  const { config, deps, metrics } = parts;
  const app = existing(parts.app, 'app');
  if (metrics !== undefined && config.metrics.port !== undefined) {
    const { port, host } = config.metrics;
    const metricsServer = createMetricsPort(metrics, parts);
    parts.metricsServer = metricsServer;
    parts.opened.add(() => metricsServer.close());
    const bound = await metricsServer.listen(port, host);
    deps.logger.info({ port: bound, host }, `Serving metrics at http://${hostForUrl(host)}:${bound}/metrics`);
  }
  await app.listen({
    port: config.port,
    host: config.host,
    listenTextResolver: (address) => `Starting HTTP service at ${address}`,
  });
  // After the listen: a start's first healthy answer does not wait for them.
  metrics?.startProcessMetrics();
  const address = app.server.address() as AddressInfo;
  return `http://${hostForUrl(address.address)}:${address.port}`;
}

/** The metrics port, held to the service port's bounds (its timeouts, its per-connection limits). */
function createMetricsPort(metrics: Metrics, { config, deps, timeouts }: ServiceParts): MetricsServer {
  return createMetricsServer(metrics, {
    timeouts,
    guard: {
      maxQueuedResponses: config.http.maxQueuedResponses,
      maxQueuedBytes: config.http.maxQueuedBytes,
      ...guardLogging(deps.logger, { port: 'metrics', maxConnections: METRICS_MAX_CONNECTIONS, limit: 'it takes' }),
    },
  });
}

/** An IPv6 host goes in brackets in a URL. */
function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
