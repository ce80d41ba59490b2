// Logs each health status change once, with how long the previous status lasted.

import type { Logger } from 'pino';
import type { HealthRegistry } from './health-registry.js';

export function logTransitions(registry: HealthRegistry, logger: Logger): () => void {
  return registry.onTransition((t) => {
    const level = t.to === 'UP' ? 'info' : 'warn';
    logger[level](
      { check: t.check, from: t.from, to: t.to, cause: t.cause, previousLastedMs: t.previousLastedMs },
      `health check ${t.check} changed from ${t.from} to ${t.to}${t.cause ? `: ${t.cause}` : ''}`,
    );
  });
}
