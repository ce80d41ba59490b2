// The service's process: reads the environment, handles signals and calls process.exit. The
// service itself is composed in service.ts, which the tests run too. entry.ts runs it in
// production; the test build (test/support/paused-service.ts) runs it with its seams.
//
// Signals are handled from the first moment: as PID 1 (how the image runs it) a signal with no
// handler is simply dropped, so a SIGTERM that arrived while modules loaded or accounts were
// seeded used to be lost. Hence this file imports nothing heavy up front: the handlers go in,
// then the rest of the service is loaded (import() below) and started in phases that a stop
// signal can end between.

import type { ShutdownEvent, ShutdownOptions } from 'health-views';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, oneLine, shutdownBudgetWarning, type Config } from '../config.js';
import { checkListenAddresses } from '../http/listen-addresses.js';
import type { Lifecycle } from '../shared/lifecycle.js';
import type { Service, ServiceSeams } from '../service/service.js';
import { STOP_SIGNALS, type StopSignal } from './stop-signals.js';

/**
 * Every setting, the listeners' hosts resolved and their ports tried, before anything opens; a
 * problem is one stderr line naming its setting, then exit 1.
 */
async function readConfig(env: NodeJS.ProcessEnv): Promise<Config> {
  let problems: readonly string[];
  try {
    const config = loadConfig(env);
    problems = await checkListenAddresses(config);
    if (problems.length === 0) return config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems = error.problems;
  }
  for (const problem of problems) process.stderr.write(`accountservice: invalid configuration: ${oneLine(problem)}\n`);
  process.exit(1);
}

async function main(env: NodeJS.ProcessEnv, seams: ServiceSeams): Promise<void> {
  // Before anything else: a stop signal from here on aborts the start; once serving, the
  // package's shutdown takes the signals over.
  const startAbort = new AbortController();
  const abortStart = (signal: StopSignal): void => startAbort.abort(signal);
  for (const signal of STOP_SIGNALS) process.on(signal, abortStart);
  // A listener replaces Node's default for SIGUSR1, which opens the inspector on 127.0.0.1:9229:
  // a debugger anyone on the host could attach to. Debug with node --inspect instead.
  const loggers: { service?: Logger } = {};
  process.on('SIGUSR1', () =>
    loggers.service?.warn('SIGUSR1 ignored: the inspector does not open on a signal (run node --inspect to debug)'),
  );

  const config = await readConfig(env);
  const [{ createLoggers }, { createStdoutDestination }] = await Promise.all([
    import('./logger.js'),
    import('./log-destination.js'),
  ]);
  // LOG_PRETTY writes through pino-pretty in this thread; the bounded destination is for JSON lines.
  const logOutput = config.logPretty ? undefined : createStdoutDestination({ maxBufferBytes: config.log.bufferBytes });
  const { logger, accessLogger } = createLoggers({ level: config.logLevel, pretty: config.logPretty }, logOutput);
  loggers.service = logger;
  logger.info('Starting accountservice');
  if (config.testability.enabled) {
    logger.warn(
      'testability routes are enabled: anyone who can reach /testability/healthy/false can make this service unhealthy',
    );
  }
  const budgetWarning = shutdownBudgetWarning(config.shutdown);
  if (budgetWarning !== undefined) logger.warn({ shutdown: config.shutdown }, budgetWarning);

  const [{ createService, StartAborted }, { storeStartFailure }, { SharedDatabaseError }, { createShutdown }] =
    await Promise.all([
      import('../service/service.js'),
      import('../accounts/lmdb-account-store.js'),
      import('../accounts/lmdb-lease.js'),
      import('health-views'),
    ]);
  const service = createService(
    config,
    { logger, accessLogger, droppedLogLines: () => logOutput?.droppedLines() ?? 0 },
    seams,
  );
  try {
    await service.start({ signal: startAbort.signal });
  } catch (error) {
    await service.close().catch(() => {});
    if (error instanceof StartAborted) {
      const signal = String(startAbort.signal.reason);
      logger.info(
        { signal, phase: service.phase },
        `stopped during start-up (${signal} while ${service.phase ?? 'loading'}): nothing was served; the database is closed`,
      );
      return exitAfterFlush(logger, 0);
    }
    if (error instanceof SharedDatabaseError) {
      logger.fatal(error.message);
      return exitAfterFlush(logger, 1);
    }
    const failure = storeStartFailure(error);
    if (failure === undefined) throw error;
    logger.fatal(failure.message);
    return exitAfterFlush(logger, failure.exitCode);
  }

  await service.listen();
  // In one turn, the shutdown's handlers in before the start-up's are out: were a stop signal's
  // listeners down to none for a moment, Node would close its watcher and drop a signal pending in
  // it (one sent as the listen line was read, say), and the service would never stop.
  const shutdown = createShutdown(shutdownOptions(service, logger));
  for (const signal of STOP_SIGNALS) process.removeListener(signal, abortStart);
  // A signal that came while the listener opened: the service is up, so it drains as usual.
  if (startAbort.signal.aborted) shutdown.begin(String(startAbort.signal.reason));
}

/**
 * The graceful shutdown of the serving service, on health-views' createShutdown: readiness DOWN
 * at the first signal, the drain delay (none when /health is already DOWN: Swarm routes only to
 * healthy tasks, so this instance is out of the mesh and being replaced), Fastify's close (its
 * onClose hooks run), then what the service opened; past drain + timeout, exit 1.
 */
function shutdownOptions(service: Service, logger: Logger): ShutdownOptions {
  const { drainDelayMs, timeoutMs } = service.config.shutdown;
  return {
    health: service.health,
    flag: 'shutdown',
    servers: [{ close: () => service.closeServer() }],
    // service.close() knows the order (metrics, health, event loop, store, lease); the deadline bounds it.
    cleanup: [{ name: 'service resources', run: () => service.close(), timeoutMs }],
    signals: STOP_SIGNALS,
    drainDelayMs,
    skipDrainWhenDown: 'health',
    timeoutMs,
    onEvent: (event) => logShutdown(event, logger, service.lifecycle),
    exit: (code) => exitAfterFlush(logger, code),
  };
}

/** The service's log lines for the shutdown's steps; the first signal also moves its phase. */
function logShutdown(event: ShutdownEvent, logger: Logger, lifecycle: Lifecycle): void {
  switch (event.type) {
    case 'signal':
      if (event.repeated) {
        logger.warn({ reason: event.reason }, `${event.reason} received again during shutdown; exiting at once`);
      } else {
        // The app's answers say connection: close from now on (keep-alive clients reconnect elsewhere).
        lifecycle.markShuttingDown();
      }
      return;
    case 'draining':
      if (event.skippedFor !== undefined) {
        logger.info('/health is DOWN: no drain delay, this instance gets no new work and is being replaced');
      }
      logger.info(
        { reason: event.reason, drainDelayMs: event.drainDelayMs },
        `shutting down (${event.reason}): readiness is now DOWN; draining for ${event.drainDelayMs} ms`,
      );
      return;
    case 'servers-closed':
      for (const error of event.errors) logger.error({ err: error }, 'closing the HTTP server failed');
      return;
    case 'cleanup':
      if (event.outcome !== 'done') {
        logger.error({ err: event.error, outcome: event.outcome }, `shutdown: ${event.name} ${event.outcome}`);
      }
      return;
    case 'exit':
      if (event.reason === 'done') logger.info('shutdown complete');
      else if (event.reason === 'deadline') {
        logger.error(
          { deadlineMs: event.deadlineMs },
          `shutdown did not finish within ${event.deadlineMs} ms; exiting now`,
        );
      } else if (event.reason === 'failed') logger.error('shutdown failed');
      return;
    default:
      logger.debug({ shutdown: event }, `shutdown: ${event.type}`);
  }
}

/**
 * Exits once the log lines held are on stdout (the access lines of this turn; what a stalled stdout
 * has not taken yet, which the exit-time flush in log-destination.ts bounds). Bounded, so exit never
 * waits long.
 */
function exitAfterFlush(logger: Logger, code: number): void {
  const fallback = setTimeout(() => process.exit(code), 1000);
  logger.flush(() => {
    clearTimeout(fallback);
    process.exit(code);
  });
}

/**
 * Runs the service in this process until it exits; a failure to start is one line on stderr.
 * seams: only the test build's entry passes any (test/support/paused-service.ts).
 */
export function runMain(env: NodeJS.ProcessEnv, seams: ServiceSeams = {}): void {
  main(env, seams).catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`accountservice: failed to start: ${oneLine(message)}\n`);
    process.exit(1);
  });
}
