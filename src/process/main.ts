// The service's process: reads the environment, handles signals and calls process.exit. The
// service itself is composed in service/service.ts, which the tests run too. entry.ts runs it in
// production; the test build (test/support/paused-service.ts) runs it with its seams.
//
// Signals are handled from the first moment: as PID 1 (how the image runs it) a signal with no
// handler is simply dropped, so a SIGTERM that arrived while modules loaded or accounts were
// seeded used to be lost. Hence this file imports nothing up front but the list of signals: the
// handlers go in, then the rest of the service is loaded (import() below, the configuration
// first) and started in phases that a stop signal can end between.

import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Service, ServiceDeps, ServiceSeams } from '../service/service.js';
import { oneLine } from '../shared/one-line.js';
import { STOP_SIGNALS, type StopSignal } from './stop-signals.js';

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
  const deps = await createProcessLoggers(config);
  loggers.service = deps.logger;
  const [{ createService }, { createShutdown }, { exitAfterFlush, shutdownOptions }] = await Promise.all([
    import('../service/service.js'),
    import('health-views'),
    import('./shutdown.js'),
  ]);
  const service = createService(config, deps, seams);
  const failure = await startFailure(service, startAbort.signal, deps.logger);
  if (failure !== undefined) return exitAfterFlush(deps.logger, failure);

  await service.listen();
  await seams.onListening?.();
  // In one turn, the shutdown's handlers in before the start-up's are out: were a stop signal's
  // listeners down to none for a moment, Node would close its watcher and drop a signal pending in
  // it (one sent as the listen line was read, say), and the service would never stop.
  const shutdown = createShutdown(shutdownOptions(service, deps.logger));
  for (const signal of STOP_SIGNALS) process.removeListener(signal, abortStart);
  // A signal that came while the listener opened: the service is up, so it drains as usual.
  if (startAbort.signal.aborted) shutdown.begin(String(startAbort.signal.reason));
}

/**
 * Every setting, the listeners' hosts resolved and their ports tried, before anything opens; a
 * problem is one stderr line naming its setting, then exit 1.
 */
async function readConfig(env: NodeJS.ProcessEnv): Promise<Config> {
  const [{ ConfigError, loadConfig }, { checkListenAddresses }] = await Promise.all([
    import('../config.js'),
    import('../http/listen-addresses.js'),
  ]);
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

/** The service's logger and access logger on stdout, and its first lines: the start, and any warnings. */
async function createProcessLoggers(config: Config): Promise<ServiceDeps> {
  const [{ createLoggers }, { createStdoutDestination }, { shutdownBudgetWarning }] = await Promise.all([
    import('./logger.js'),
    import('./log-destination.js'),
    import('../config.js'),
  ]);
  // LOG_PRETTY writes through pino-pretty in this thread; the bounded destination is for JSON lines.
  const logOutput = config.logPretty ? undefined : createStdoutDestination({ maxBufferBytes: config.log.bufferBytes });
  const { logger, accessLogger } = createLoggers({ level: config.logLevel, pretty: config.logPretty }, logOutput);
  logger.info('Starting accountservice');
  if (config.testability.enabled) {
    logger.warn(
      'testability routes are enabled: anyone who can reach /testability/healthy/false can make this service unhealthy',
    );
  }
  const budgetWarning = shutdownBudgetWarning(config.shutdown);
  if (budgetWarning !== undefined) logger.warn({ shutdown: config.shutdown }, budgetWarning);
  return { logger, accessLogger, droppedLogLines: () => logOutput?.droppedLines() ?? 0 };
}

/**
 * Starts the service; undefined once it has, else the exit code, with what it opened closed and
 * the reason logged: 0 for a stop signal, 1 or the store's own code for a failure.
 */
async function startFailure(service: Service, signal: AbortSignal, logger: Logger): Promise<number | undefined> {
  const [{ StartAborted }, { storeStartFailure }, { SharedDatabaseError }] = await Promise.all([
    import('../service/start-up.js'),
    import('../accounts/lmdb-account-store.js'),
    import('../accounts/lmdb-lease.js'),
  ]);
  try {
    await service.start({ signal });
    return undefined;
  } catch (error) {
    await service.close().catch(() => {});
    if (error instanceof StartAborted) {
      const reason = String(signal.reason);
      logger.info(
        { signal: reason, phase: service.phase },
        `stopped during start-up (${reason} while ${service.phase ?? 'loading'}): nothing was served; the database is closed`,
      );
      return 0;
    }
    if (error instanceof SharedDatabaseError) {
      logger.fatal(error.message);
      return 1;
    }
    const failure = storeStartFailure(error);
    if (failure === undefined) throw error;
    logger.fatal(failure.message);
    return failure.exitCode;
  }
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
