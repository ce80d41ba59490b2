// The service's entry point: the only place that reads process.env, handles signals and calls
// process.exit. The service itself is composed in service.ts, which the tests run too.
//
// Signals are handled from the first moment: as PID 1 (how the image runs it) a signal with no
// handler is simply dropped, so a SIGTERM that arrived while modules loaded or accounts were
// seeded used to be lost. Hence this file imports nothing heavy up front: the handlers go in,
// then the rest of the service is loaded (import() below) and started in phases that a stop
// signal can end between.

import { ConfigError, loadConfig, shutdownBudgetWarning, type Config } from './config.js';
import type { Logger } from 'pino';

/**
 * Each of these starts the graceful shutdown (a stop during start-up ends the start instead).
 * SIGHUP and SIGQUIT too: their default would kill the process with no drain and no closed
 * database, and a service has no terminal to hang up or configuration to reload.
 */
const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'] as const;
type StopSignal = (typeof STOP_SIGNALS)[number];

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
  const loggers: { service?: Logger } = {};
  process.on('SIGUSR1', () =>
    loggers.service?.warn('SIGUSR1 ignored: the inspector does not open on a signal (run node --inspect to debug)'),
  );

  const config = readConfig();
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
      import('./service.js'),
      import('./accounts/lmdb-account-store.js'),
      import('./accounts/lmdb-lease.js'),
      import('./shutdown.js'),
    ]);
  const service = createService(config, {
    logger,
    accessLogger,
    droppedLogLines: () => logOutput?.droppedLines() ?? 0,
  });
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

  let shutdown: ReturnType<typeof createShutdown> | undefined;
  onStop = (signal) => {
    if (shutdown === undefined) {
      // Unhealthy, this instance is already out of the routing mesh (Swarm routes only to healthy
      // tasks) and is being stopped to be replaced: draining would only delay the replacement.
      const skipDrain = service.health.view('health')?.status === 'DOWN' && config.shutdown.drainDelayMs > 0;
      if (skipDrain)
        logger.info('/health is DOWN: no drain delay, this instance gets no new work and is being replaced');
      shutdown = createShutdown({
        logger,
        lifecycle: service.lifecycle,
        drainDelayMs: skipDrain ? 0 : config.shutdown.drainDelayMs,
        timeoutMs: config.shutdown.timeoutMs,
        closeServer: () => service.closeServer(),
        closeResources: () => service.close(),
        exit: (code) => exitAfterFlush(logger, code),
      });
    }
    shutdown.begin(signal);
  };
  await service.listen();
  // A signal that came while the listener opened: the service is up, so it drains as usual.
  if (startAbort.signal.aborted) onStop(startAbort.signal.reason as StopSignal);
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

main().catch((error: unknown) => {
  process.stderr.write(`accountservice: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
