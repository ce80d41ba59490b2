// The service's entry point: the only place that reads process.env, listens, handles signals
// and calls process.exit. Everything it wires together is built by factories and passed in.

import { ConfigError, loadConfig, shutdownBudgetWarning, type Config } from './config.js';
import type { Logger } from 'pino';
import { createLogger } from './logger.js';
import { createStdoutDestination } from './log-destination.js';
import { LmdbAccountStore, storeStartFailure } from './accounts/lmdb-account-store.js';
import type { SeedResult } from './accounts/account-store.js';
import { seedAccounts } from './accounts/seed.js';
import { createLifecycle } from './lifecycle.js';
import { createTestabilitySwitch } from './testability/testability-switch.js';
import { createEventLoopMonitor, createServiceChecks } from './health/checks.js';
import { createHealthRegistry } from './health/health-registry.js';
import { logTransitions } from './health/transition-log.js';
import { createWatchHub } from './health/watch.js';
import { createDetailsPolicy } from './health/render.js';
import { buildApp } from './app.js';
import { createMetrics } from './metrics/metrics.js';
import { closeMetricsServer, createMetricsServer, listenMetricsServer } from './metrics/server.js';
import { createShutdown } from './shutdown.js';

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
  const config = readConfig();
  const logOutput = createStdoutDestination({ maxBufferBytes: config.log.bufferBytes });
  const logger = createLogger({ level: config.logLevel, pretty: config.logPretty }, logOutput);
  logger.info('Starting accountservice');
  if (config.testability.enabled) {
    logger.warn('testability routes are enabled: anyone who can reach /testability/healthy/false can make this service unhealthy');
  }
  const budgetWarning = shutdownBudgetWarning(config.shutdown);
  if (budgetWarning !== undefined) logger.warn({ shutdown: config.shutdown }, budgetWarning);

  let store: LmdbAccountStore;
  try {
    store = LmdbAccountStore.open(config.dbPath, {
      onDamage: config.dbOnDamage,
      onMovedAside: (moved) =>
        logger.warn(moved, `${moved.file} is damaged (${moved.problem}); moved it aside to ${moved.movedTo}`),
    });
  } catch (error) {
    const failure = storeStartFailure(error);
    if (failure === undefined) throw error;
    logger.fatal(failure.message);
    return exitAfterFlush(logger, failure.exitCode);
  }

  const lifecycle = createLifecycle();
  const testability = config.testability.enabled ? createTestabilitySwitch() : undefined;
  const eventLoop = createEventLoopMonitor();
  const registry = createHealthRegistry(
    createServiceChecks({
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
  logTransitions(registry, logger);
  // Subscribed before the checks first run, so their first transitions are counted too.
  const metrics = config.metrics.enabled
    ? createMetrics(registry, { droppedLogLines: () => logOutput.droppedLines() })
    : undefined;

  let seeded: SeedResult;
  try {
    seeded = await store.seed(seedAccounts(config.seedAccounts));
  } catch (error) {
    const failure = storeStartFailure(error);
    if (failure === undefined) throw error;
    logger.fatal(failure.message);
    return exitAfterFlush(logger, failure.exitCode);
  }
  logger.info(
    { seeded: seeded.seeded, written: seeded.written, total: seeded.total },
    `Seeded ${seeded.seeded} fake accounts...`,
  );
  lifecycle.markServing();
  await registry.start();

  const app = await buildApp({
    logger,
    store,
    health: registry,
    metrics,
    serveMetrics: config.metrics.port === undefined,
    accessLog: config.log.access,
    maxQueuedResponses: config.http.maxQueuedResponses,
    detailsAllowed: createDetailsPolicy(config.health.details, config.health.token),
    lifecycle,
    testability,
    watch: createWatchHub(registry, config.watch),
  });

  // A metrics port of its own: listening before the service does, so scrapes work once it is up.
  const metricsServer = metrics && config.metrics.port !== undefined ? createMetricsServer(metrics) : undefined;
  if (metricsServer !== undefined) {
    const port = await listenMetricsServer(metricsServer, config.metrics.port ?? 0, config.host);
    logger.info({ port }, `Serving metrics at http://${hostForUrl(config.host)}:${port}/metrics`);
  }

  const shutdown = createShutdown({
    logger,
    lifecycle,
    drainDelayMs: config.shutdown.drainDelayMs,
    timeoutMs: config.shutdown.timeoutMs,
    closeServer: () => app.close(),
    closeResources: async () => {
      if (metricsServer !== undefined) await closeMetricsServer(metricsServer);
      metrics?.close();
      registry.stop();
      eventLoop.stop();
      await store.close();
    },
    exit: (code) => exitAfterFlush(logger, code),
  });
  process.on('SIGTERM', () => shutdown.begin('SIGTERM'));
  process.on('SIGINT', () => shutdown.begin('SIGINT'));

  await app.listen({
    port: config.port,
    host: config.host,
    listenTextResolver: (address) => `Starting HTTP service at ${address}`,
  });
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
