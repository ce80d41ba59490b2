// Logs each health status change once, at the change, with how long the previous status lasted:
// a check's (its own policy) and a view's overall status; and each watch stream the package cut off.

import type { Logger } from 'pino';
import type { Health, WatcherDropped } from 'health-views';

export function logHealthEvents(health: Pick<Health, 'on' | 'onWatcherDropped'>, logger: Logger): () => void {
  const stopDrops = health.onWatcherDropped((dropped) => logWatcherDropped(dropped, logger));
  const stopEvents = health.on((event) => {
    const level = event.to === 'UP' ? 'info' : 'warn';
    if (event.type === 'view') {
      logger[level](
        { view: event.view, from: event.from, to: event.to, previousLastedMs: event.previousLastedMs },
        `health view ${event.view} changed from ${event.from} to ${event.to}`,
      );
      return;
    }
    // The public cause, as clients see it, then for the operator the detail (exception text included).
    const cause = event.publicCause;
    const detail = event.cause !== undefined && event.cause !== cause ? event.cause : undefined;
    const reason = cause === undefined ? '' : `: ${cause}${detail === undefined ? '' : ` (${detail})`}`;
    logger[level](
      { check: event.check, from: event.from, to: event.to, cause, detail, previousLastedMs: event.previousLastedMs },
      `health check ${event.check} changed from ${event.from} to ${event.to}${reason}`,
    );
  });
  return () => {
    stopEvents();
    stopDrops();
  };
}

function logWatcherDropped(dropped: WatcherDropped, logger: Logger): void {
  const { reason, queuedBytes, maxQueuedBytes, watchers } = dropped;
  const why =
    reason === 'behind'
      ? `it had ${queuedBytes} bytes waiting and the next event would pass ${maxQueuedBytes}`
      : 'writing to it failed';
  logger.warn(
    { reason, queuedBytes, maxQueuedBytes, watchers },
    `closed a health watch stream: ${why}; watchers left: ${watchers}`,
  );
}
