// Composes the service from its configuration: the one wiring that main.ts runs and the tests run.
// main.ts adds only what a process has (environment, signals, exit); tests add only what they
// reach through ServiceSeams (a store, short timeouts, a pause between phases). A bug in this
// wiring therefore fails a test.

import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { AccountStore } from '../accounts/account-store.js';
import { LmdbAccountStore } from '../accounts/lmdb-account-store.js';
import { acquireLease } from '../accounts/lmdb-lease.js';
import { seedAccounts } from '../accounts/seed.js';
import { buildApp } from '../http/app.js';
import { SERVER_TIMEOUTS, type ServerTimeouts } from '../http/server-timeouts.js';
import { createLifecycle, type Lifecycle } from '../shared/lifecycle.js';
import { createTestabilitySwitch, type TestabilitySwitch } from '../testability/testability-switch.js';
import type { Health } from 'health-views';
import { createServiceHealth } from '../health/service-health.js';
import { logHealthEvents } from '../health/transition-log.js';
import { createMetrics, type Metrics } from '../metrics/metrics.js';
import { createMetricsServer, METRICS_MAX_CONNECTIONS, type MetricsServer } from '../http/metrics-port.js';
import { guardLogging } from '../http/guard-log.js';

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
}

/** The start-up phases, in order; each is logged as it begins ("start-up: seeding"). */
export type StartPhase = 'opening the database' | 'seeding' | 'first checks' | 'building the app' | 'listening';

/** Thrown by start() when its signal aborts it between phases (or seeding between batches). */
export class StartAborted extends Error {
  override readonly name = 'StartAborted';
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

// eslint-disable-next-line max-lines-per-function -- issue 26: to be split by job
export function createService(config: Config, deps: ServiceDeps, seams: ServiceSeams = {}): Service {
  const { logger } = deps;
  const timeouts: ServerTimeouts = { ...SERVER_TIMEOUTS, ...seams.timeouts };
  const lifecycle = createLifecycle();
  const testability = config.testability.enabled ? createTestabilitySwitch() : undefined;
  let store: AccountStore | undefined;
  let health: Health | undefined;
  let metrics: Metrics | undefined;
  let app: FastifyInstance | undefined;
  let metricsServer: MetricsServer | undefined;
  let closing: Promise<void> | undefined;
  let phase: StartPhase | undefined;
  let releaseLease: (() => Promise<void> | void) | undefined;

  function opened<T>(part: T | undefined, name: string): T {
    if (part === undefined) throw new Error(`the service's ${name} does not exist before start() has opened it`);
    return part;
  }

  /**
   * Logs the phase as it begins and tells seams.onPhase. A signal handler runs from the event loop:
   * the turn before each phase lets a signal that came during synchronous work be seen before the
   * next phase starts.
   */
  async function enter(next: StartPhase, signal: AbortSignal | undefined): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    if (signal?.aborted) throw new StartAborted();
    phase = next;
    logger.info({ phase }, `start-up: ${phase}`);
    if (seams.onPhase !== undefined) {
      await seams.onPhase(phase, signal);
      if (signal?.aborted) throw new StartAborted();
    }
  }

  async function start({ signal }: StartOptions = {}): Promise<void> {
    await enter('opening the database', signal);
    const ownStore = seams.store === undefined;
    if (ownStore) {
      // Before LMDB opens the file: opening it beside another container's PID 1 already does harm.
      const lease = await acquireLease(config.dbPath);
      releaseLease = () => lease.release();
    }
    const theStore =
      seams.store ??
      LmdbAccountStore.open(config.dbPath, {
        onDamage: config.dbOnDamage,
        onMovedAside: (moved) =>
          logger.warn(moved, `${moved.file} is damaged (${moved.problem}); moved it aside to ${moved.movedTo}`),
      });
    store = theStore;

    const theHealth = createServiceHealth({
      store: theStore,
      lifecycle,
      testability,
      health: config.health,
      watch: config.watch,
    });
    health = theHealth;
    logHealthEvents(theHealth, logger);
    // Subscribed before the checks first run, so their first transitions are counted too.
    metrics = config.metrics.enabled
      ? createMetrics(theHealth, deps.droppedLogLines ? { droppedLogLines: deps.droppedLogLines } : {})
      : undefined;

    if (ownStore) {
      await enter('seeding', signal);
      let seeded;
      try {
        seeded = await theStore.seed(seedAccounts(config.seedAccounts), signal ? { signal } : {});
      } catch (error) {
        if (signal?.aborted) throw new StartAborted('stopped while seeding', { cause: error });
        throw error;
      }
      logger.info(
        { seeded: seeded.seeded, written: seeded.written, total: seeded.total },
        `Seeded ${seeded.seeded} fake accounts...`,
      );
    }
    await enter('first checks', signal);
    lifecycle.markServing();
    await theHealth.start();

    await enter('building the app', signal);
    app = await buildApp({
      logger,
      accessLogger: deps.accessLogger,
      store: theStore,
      health: theHealth,
      metrics,
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
    await enter('listening', signal);
  }

  async function listen(): Promise<string> {
    const theApp = opened(app, 'app');
    // A metrics port of its own: listening before the service does, so scrapes work once it is up.
    if (metrics !== undefined && config.metrics.port !== undefined) {
      const { port, host } = config.metrics;
      metricsServer = createMetricsPort(metrics, config, logger, timeouts);
      const bound = await metricsServer.listen(port, host);
      logger.info({ port: bound, host }, `Serving metrics at http://${hostForUrl(host)}:${bound}/metrics`);
    }
    await theApp.listen({
      port: config.port,
      host: config.host,
      listenTextResolver: (address) => `Starting HTTP service at ${address}`,
    });
    // After the listen: a start's first healthy answer does not wait for them.
    metrics?.startProcessMetrics();
    const address = theApp.server.address() as AddressInfo;
    return `http://${hostForUrl(address.address)}:${address.port}`;
  }

  let serverClosing: Promise<void> | undefined;
  function closeServer(): Promise<void> {
    if (app === undefined) return Promise.resolve();
    serverClosing ??= app.close();
    return serverClosing;
  }

  async function closeAll(): Promise<void> {
    await closeServer();
    await metricsServer?.close();
    metrics?.close();
    // Also stops the event-loop check's sampler.
    health?.close('shutting down');
    await store?.close();
    await releaseLease?.();
  }

  return {
    start,
    get phase() {
      return phase;
    },
    listen,
    closeServer,
    close() {
      closing ??= closeAll();
      return closing;
    },
    config,
    lifecycle,
    testability,
    get app() {
      return opened(app, 'app');
    },
    get store() {
      return opened(store, 'store');
    },
    get health() {
      return opened(health, 'health');
    },
    get metrics() {
      return metrics;
    },
    get metricsServer() {
      return metricsServer?.server;
    },
  };
}

/** The metrics port, held to the service port's bounds (its timeouts, its per-connection limits). */
function createMetricsPort(metrics: Metrics, config: Config, logger: Logger, timeouts: ServerTimeouts): MetricsServer {
  return createMetricsServer(metrics, {
    timeouts,
    guard: {
      maxQueuedResponses: config.http.maxQueuedResponses,
      maxQueuedBytes: config.http.maxQueuedBytes,
      ...guardLogging(logger, { port: 'metrics', maxConnections: METRICS_MAX_CONNECTIONS, limit: 'it takes' }),
    },
  });
}

/** An IPv6 host goes in brackets in a URL. */
function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
