// The end of the serving service's process: the graceful shutdown on health-views'
// createShutdown, its log lines, and an exit that waits for the log lines held.

import type { ShutdownEvent, ShutdownOptions } from 'health-views';
import type { Logger } from 'pino';
import type { Service } from '../service/service.js';
import type { Lifecycle } from '../shared/lifecycle.js';
import { STOP_SIGNALS } from './stop-signals.js';

/**
 * The graceful shutdown of the serving service, on health-views' createShutdown: readiness DOWN
 * at the first signal, the drain delay (none when /health is already DOWN: Swarm routes only to
 * healthy tasks, so this instance is out of the mesh and being replaced), Fastify's close (its
 * onClose hooks run), then what the service opened; past drain + timeout, exit 1.
 */
export function shutdownOptions(service: Service, logger: Logger): ShutdownOptions {
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
export function exitAfterFlush(logger: Logger, code: number): void {
  const fallback = setTimeout(() => process.exit(code), 1000);
  logger.flush(() => {
    clearTimeout(fallback);
    process.exit(code);
  });
}
