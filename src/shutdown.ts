// The graceful shutdown sequence, apart from signals and process.exit so tests can drive it:
// not ready at once -> drain delay -> stop accepting and finish in-flight requests -> close
// resources -> exit 0. A second request to stop, or the deadline, exits 1 at once.

import type { Logger } from 'pino';
import { systemClock, type Clock } from './health/clock.js';
import type { Lifecycle } from './lifecycle.js';

export interface ShutdownDeps {
  readonly logger: Logger;
  readonly lifecycle: Lifecycle;
  /** Time between "not ready" and closing the listener, for load balancers to notice. */
  readonly drainDelayMs: number;
  /** Time for in-flight requests and closing, after the drain delay. */
  readonly timeoutMs: number;
  /** Stops accepting connections and resolves once in-flight requests are answered. */
  readonly closeServer: () => Promise<void>;
  /** Closes what the server used (health timers, the database), after the server. */
  readonly closeResources: () => Promise<void>;
  readonly exit: (code: number) => void;
  readonly clock?: Clock;
}

export interface Shutdown {
  /** Starts the sequence; a second call ends the process at once with exit code 1. */
  begin(reason: string): void;
}

export function createShutdown(deps: ShutdownDeps): Shutdown {
  const clock = deps.clock ?? systemClock;
  const { logger } = deps;
  let begun = false;
  let exited = false;

  function exit(code: number): void {
    if (exited) return;
    exited = true;
    deps.exit(code);
  }

  async function run(reason: string): Promise<void> {
    const deadlineMs = deps.drainDelayMs + deps.timeoutMs;
    const deadline = clock.setTimeout(() => {
      logger.error({ deadlineMs }, `shutdown did not finish within ${deadlineMs} ms; exiting now`);
      exit(1);
    }, deadlineMs);
    try {
      deps.lifecycle.markShuttingDown();
      logger.info(
        { reason, drainDelayMs: deps.drainDelayMs },
        `shutting down (${reason}): readiness is now DOWN; draining for ${deps.drainDelayMs} ms`,
      );
      if (deps.drainDelayMs > 0) await new Promise<void>((resolve) => clock.setTimeout(resolve, deps.drainDelayMs));
      await deps.closeServer();
      await deps.closeResources();
      clock.clearTimeout(deadline);
      logger.info('shutdown complete');
      exit(0);
    } catch (error) {
      clock.clearTimeout(deadline);
      logger.error({ err: error }, 'shutdown failed');
      exit(1);
    }
  }

  return {
    begin(reason) {
      if (begun) {
        logger.warn({ reason }, `${reason} received again during shutdown; exiting at once`);
        exit(1);
        return;
      }
      begun = true;
      void run(reason);
    },
  };
}
