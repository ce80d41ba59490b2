// Logs each health status change once, at the change, with how long the previous status lasted:
// a check's (its own policy) and a view's overall status.

import type { Logger } from 'pino';
import type { Health } from 'health-views';

export function logHealthEvents(health: Pick<Health, 'on'>, logger: Logger): () => void {
  return health.on((event) => {
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
}
