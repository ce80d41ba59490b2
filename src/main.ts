// The service's entry point: the only place that reads process.env, listens, handles signals
// and calls process.exit. Everything it wires together is built by factories and passed in.
//
// Signals are handled from the first moment: as PID 1 (how the image runs it) a signal with no
// handler is simply dropped, so a SIGTERM that arrived while modules loaded or accounts were
// seeded used to be lost. Hence this file imports nothing heavy up front: the handlers go in,
// then the rest of the service is loaded (import() below) and started in phases that a stop
// signal can end between.

import { ConfigError, loadConfig, shutdownBudgetWarning, type Config } from './config.js';
import type { Logger } from 'pino';
import type { LmdbAccountStore } from './accounts/lmdb-account-store.js';
import type { HealthRegistry, OverallStatus } from './health/health-registry.js';
import type { Lifecycle } from './lifecycle.js';

/**
 * Each of these starts the graceful shutdown (a stop during start-up ends the start instead).
 * SIGHUP and SIGQUIT too: their default would kill the process with no drain and no closed
 * database, and a service has no terminal to hang up or configuration to reload.
 */
const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'] as const;
type StopSignal = (typeof STOP_SIGNALS)[number];

/** The start-up phases, in order; each is logged as it begins. */
export type StartPhase =
  | 'loading'
  | 'opening the database'
  | 'seeding'
  | 'first checks'
  | 'building the app'
  | 'listening';

/** Thrown by start() when its signal aborts between phases. */
class StartAborted extends Error {
  override readonly name = 'StartAborted';
}

function readConfig(): Config {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) process.stderr.write(`accountservice: invalid configuration: ${problem}\n`);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  // Before anything else: a stop signal from here on aborts the start; once serving, it drains.
  const startAbort = new AbortController();
  let onStop: (signal: StopSignal) => void = (signal) => startAbort.abort(signal);
  for (const signal of STOP_SIGNALS) process.on(signal, () => onStop(signal));
  // A listener replaces Node's default for SIGUSR1, which opens the inspector on 127.0.0.1:9229:
  // a debugger anyone on the host could attach to. Debug with node --inspect instead.
  let usr1Logger: Logger | undefined;
  process.on('SIGUSR1', () =>
    usr1Logger?.warn('SIGUSR1 ignored: the inspector does not open on a signal (run node --inspect to debug)'),
  );

  const config = readConfig();
  const { createLogger } = await import('./logger.js');
  const logger = createLogger({ level: config.logLevel, pretty: config.logPretty });
  usr1Logger = logger;
  logger.info('Starting accountservice');
  if (config.testability.enabled) {
    logger.warn('testability routes are enabled: anyone who can reach /testability/healthy/false can make this service unhealthy');
  }
  const budgetWarning = shutdownBudgetWarning(config.shutdown);
  if (budgetWarning !== undefined) logger.warn({ shutdown: config.shutdown }, budgetWarning);

  const service = createService(config, { logger });
  try {
    await service.start({ signal: startAbort.signal });
  } catch (error) {
    if (error instanceof StartAborted) {
      await service.close();
      logger.info(
        { signal: startAbort.signal.reason, phase: service.phase },
        `stopped during start-up (${String(startAbort.signal.reason)} while ${service.phase}): ` +
          'nothing was served; the database is closed',
      );
      return exitAfterFlush(logger, 0);
    }
    await service.close().catch(() => {});
    if (error instanceof FatalStartError) {
      logger.fatal(error.message);
      return exitAfterFlush(logger, 1);
    }
    throw error;
  }

  const { createShutdown } = await import('./shutdown.js');
  let shutdown: Promise<{ begin(reason: string): void }> | undefined;
  onStop = (signal) => {
    shutdown ??= service.healthStatus().catch((): OverallStatus => 'UP').then((status) => {
      // Unhealthy, this instance is already out of the routing mesh (Swarm routes only to healthy
      // tasks) and is being stopped to be replaced: draining would only delay the replacement.
      const skipDrain = status === 'DOWN' && config.shutdown.drainDelayMs > 0;
      if (skipDrain) {
        logger.info('/health is DOWN: no drain delay, this instance gets no new work and is being replaced');
      }
      return createShutdown({
        logger,
        lifecycle: service.lifecycle,
        drainDelayMs: skipDrain ? 0 : config.shutdown.drainDelayMs,
        timeoutMs: config.shutdown.timeoutMs,
        closeServer: () => service.closeServer(),
        closeResources: () => service.close(),
        exit: (code) => exitAfterFlush(logger, code),
      });
    });
    void shutdown.then((sequence) => sequence.begin(signal));
  };
  await service.listen();
  // A signal that came while the listener opened: the service is up, so it drains as usual.
  if (startAbort.signal.aborted) onStop(startAbort.signal.reason as StopSignal);
}

/** A start-up failure with a message for the operator (no stack trace needed), exit code 1. */
class FatalStartError extends Error {
  override readonly name = 'FatalStartError';
}

interface ServiceDeps {
  readonly logger: Logger;
}

/**
 * The service composed from config, started in phases: the shape src/service.ts gives main.ts
 * and the tests (createService(config, deps) -> start({ signal }), listen(), close()).
 */
function createService(config: Config, deps: ServiceDeps) {
  const { logger } = deps;
  let phase: StartPhase = 'loading';
  let lifecycle: Lifecycle | undefined;
  let registry: HealthRegistry | undefined;
  let store: LmdbAccountStore | undefined;
  const closers: (() => Promise<void> | void)[] = [];
  let closeServer: () => Promise<void> = async () => {};
  let listen: () => Promise<void> = async () => {
    throw new Error('listen() before start()');
  };
  let closing: Promise<void> | undefined;

  /** Logs the phase, then (tests only) pauses in it so a signal can land there. */
  async function enter(next: StartPhase, signal: AbortSignal): Promise<void> {
    // A signal handler runs from the event loop's poll phase: after a synchronous phase (seeding)
    // a signal is only noticed once the loop turns, which nothing else here guarantees.
    await new Promise((resolve) => setImmediate(resolve));
    if (signal.aborted) throw new StartAborted();
    phase = next;
    logger.info({ phase }, `start-up: ${phase}`);
    if (config.startupPhasePauseMs > 0) {
      const { setTimeout: sleep } = await import('node:timers/promises');
      await sleep(config.startupPhasePauseMs, undefined, { signal }).catch(() => {});
      if (signal.aborted) throw new StartAborted();
    }
  }

  return {
    get phase(): StartPhase {
      return phase;
    },
    get lifecycle(): Lifecycle {
      if (lifecycle === undefined) throw new Error('lifecycle before start()');
      return lifecycle;
    },

    async start({ signal }: { signal: AbortSignal }): Promise<void> {
      await enter('loading', signal);
      const parts = await loadParts();
      await enter('opening the database', signal);
      // Before LMDB opens the file: opening it beside another container's PID 1 already does harm.
      try {
        const lease = await parts.acquireLease(config.dbPath);
        closers.push(() => lease.release());
      } catch (error) {
        if (error instanceof parts.SharedDatabaseError) throw new FatalStartError(error.message);
        throw error;
      }
      try {
        store = parts.LmdbAccountStore.open(config.dbPath);
      } catch (error) {
        if (error instanceof parts.StoreOpenError) throw new FatalStartError(error.message);
        throw error;
      }
      const openStore = store;
      closers.push(() => openStore.close());

      lifecycle = parts.createLifecycle();
      const testability = config.testability.enabled ? parts.createTestabilitySwitch() : undefined;
      const eventLoop = parts.createEventLoopMonitor();
      closers.push(() => eventLoop.stop());
      const health = parts.createHealthRegistry(
        parts.createServiceChecks({
          store,
          lifecycle,
          testability,
          eventLoop,
          checkIntervalMs: config.health.checkIntervalMs,
          checkTimeoutMs: config.health.checkTimeoutMs,
          eventLoopDelayLimitMs: config.health.eventLoopDelayLimitMs,
          database: config.health.database,
        }),
      );
      registry = health;
      closers.push(() => health.stop());
      parts.logTransitions(health, logger);
      // Subscribed before the checks first run, so their first transitions are counted too.
      const metrics = config.metrics.enabled ? parts.createMetrics(health) : undefined;
      if (metrics !== undefined) closers.push(() => metrics.close());

      await enter('seeding', signal);
      // Seeding takes the signal once it can stop between batches; until then a signal that
      // arrives during it ends the start right after it.
      const seeded = await store.seed(parts.seedAccounts(config.seedAccounts));
      logger.info({ seeded: seeded.seeded, total: seeded.total }, `Seeded ${seeded.seeded} fake accounts...`);

      await enter('first checks', signal);
      lifecycle.markServing();
      await health.start();

      await enter('building the app', signal);
      const servedBy = config.servedBy ?? parts.servedByAddress(parts.networkInterfaces(), parts.hostname());
      const app = await parts.buildApp({
        logger,
        store,
        health,
        metrics,
        serveMetrics: config.metrics.port === undefined,
        accessLog: config.log.access,
        detailsAllowed: parts.createDetailsPolicy(config.health.details, config.health.token),
        lifecycle,
        testability,
        watch: parts.createWatchHub(health, config.watch),
        servedBy,
      });
      let serverClosing: Promise<void> | undefined;
      closeServer = () => (serverClosing ??= app.close());
      closers.push(() => closeServer());
      const metricsServer =
        metrics && config.metrics.port !== undefined ? parts.createMetricsServer(metrics) : undefined;
      if (metricsServer !== undefined) closers.push(() => parts.closeMetricsServer(metricsServer));

      await enter('listening', signal);
      listen = async () => {
        // A metrics port of its own: listening before the service does, so scrapes work once it is up.
        if (metricsServer !== undefined) {
          const port = await parts.listenMetricsServer(metricsServer, config.metrics.port ?? 0, config.host);
          logger.info({ port }, `Serving metrics at http://${hostForUrl(config.host)}:${port}/metrics`);
        }
        await app.listen({
          port: config.port,
          host: config.host,
          listenTextResolver: (address) => `Starting HTTP service at ${address}`,
        });
      };
    },

    listen: () => listen(),
    closeServer: () => closeServer(),

    /**
     * Closes whatever start() opened, last opened first (the server before the store, so in-flight
     * lookups finish on an open database); safe in any phase and more than once.
     */
    close(): Promise<void> {
      closing ??= (async () => {
        for (const close of closers.reverse()) await close();
      })();
      return closing;
    },

    /** The aggregate /health view, as the HEALTHCHECK sees it; UP before start() has built it. */
    async healthStatus(): Promise<OverallStatus> {
      return registry === undefined ? 'UP' : (await registry.evaluate('health')).status;
    },
  };
}

/** Everything but config and signals, loaded once the signal handlers are in place. */
async function loadParts() {
  const [os, lmdbStore, seed, lifecycle, testability, checks, registry, transitions, watch, render, app] =
    await Promise.all([
      import('node:os'),
      import('./accounts/lmdb-account-store.js'),
      import('./accounts/seed.js'),
      import('./lifecycle.js'),
      import('./testability/testability-switch.js'),
      import('./health/checks.js'),
      import('./health/health-registry.js'),
      import('./health/transition-log.js'),
      import('./health/watch.js'),
      import('./health/render.js'),
      import('./app.js'),
    ]);
  const [metrics, metricsServer, servedBy, lease] = await Promise.all([
    import('./metrics/metrics.js'),
    import('./metrics/server.js'),
    import('./accounts/served-by.js'),
    import('./accounts/lmdb-lease.js'),
  ]);
  return {
    networkInterfaces: os.networkInterfaces,
    hostname: os.hostname,
    LmdbAccountStore: lmdbStore.LmdbAccountStore,
    StoreOpenError: lmdbStore.StoreOpenError,
    seedAccounts: seed.seedAccounts,
    createLifecycle: lifecycle.createLifecycle,
    createTestabilitySwitch: testability.createTestabilitySwitch,
    createEventLoopMonitor: checks.createEventLoopMonitor,
    createServiceChecks: checks.createServiceChecks,
    createHealthRegistry: registry.createHealthRegistry,
    logTransitions: transitions.logTransitions,
    createWatchHub: watch.createWatchHub,
    createDetailsPolicy: render.createDetailsPolicy,
    buildApp: app.buildApp,
    createMetrics: metrics.createMetrics,
    createMetricsServer: metricsServer.createMetricsServer,
    listenMetricsServer: metricsServer.listenMetricsServer,
    closeMetricsServer: metricsServer.closeMetricsServer,
    servedByAddress: servedBy.servedByAddress,
    acquireLease: lease.acquireLease,
    SharedDatabaseError: lease.SharedDatabaseError,
  };
}

/**
 * Exits once the log lines already written are on stdout: pino writes asynchronously, and an exit
 * with a write still in flight can put the last lines out of order. Bounded, so exit never waits long.
 */
function exitAfterFlush(logger: Logger, code: number): void {
  const fallback = setTimeout(() => process.exit(code), 1000);
  logger.flush(() => {
    clearTimeout(fallback);
    process.exit(code);
  });
}

/** An IPv6 host goes in brackets in a URL. */
function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

main().catch((error: unknown) => {
  process.stderr.write(`accountservice: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
