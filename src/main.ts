// The service's entry point: the only place that reads process.env, handles signals and calls
// process.exit. The service itself is composed in service.ts, which the tests run too.

import { ConfigError, loadConfig, shutdownBudgetWarning, type Config } from './config.js';
import type { Logger } from 'pino';
import { createLogger } from './logger.js';
import { createStdoutDestination } from './log-destination.js';
import { storeStartFailure } from './accounts/lmdb-account-store.js';
import { createService } from './service.js';
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

  const service = createService(config, { logger, droppedLogLines: () => logOutput.droppedLines() });
  try {
    await service.start();
  } catch (error) {
    await service.close().catch(() => {});
    const failure = storeStartFailure(error);
    if (failure === undefined) throw error;
    logger.fatal(failure.message);
    return exitAfterFlush(logger, failure.exitCode);
  }

  const shutdown = createShutdown({
    logger,
    lifecycle: service.lifecycle,
    drainDelayMs: config.shutdown.drainDelayMs,
    timeoutMs: config.shutdown.timeoutMs,
    closeServer: () => service.closeServer(),
    closeResources: () => service.close(),
    exit: (code) => exitAfterFlush(logger, code),
  });
  process.on('SIGTERM', () => shutdown.begin('SIGTERM'));
  process.on('SIGINT', () => shutdown.begin('SIGINT'));

  await service.listen();
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

main().catch((error: unknown) => {
  process.stderr.write(`accountservice: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
