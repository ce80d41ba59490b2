// The shutdown check: a flag, DOWN from the first stop signal on, so readiness turns DOWN and the
// load balancer stops sending while the service drains.

import type { CheckDefinition, Health } from 'health-views';
import type { Lifecycle } from '../shared/lifecycle.js';

export function shutdownCheck(lifecycle: Pick<Lifecycle, 'phase'>): CheckDefinition {
  return {
    name: 'shutdown',
    kind: 'flag',
    healthyWhen: false,
    initial: lifecycle.phase === 'shutting-down',
    publicCause: 'shutting down: not taking new work',
  };
}

/** Pushes the flag the moment the lifecycle moves, so the change is logged, counted and streamed then. */
export function followShutdown(health: Pick<Health, 'flag'>, lifecycle: Pick<Lifecycle, 'onChange'>): void {
  const flag = health.flag('shutdown');
  lifecycle.onChange((phase) => flag.set(phase === 'shutting-down', 'a stop signal began the shutdown sequence'));
}
