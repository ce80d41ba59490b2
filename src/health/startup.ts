// The startup check: a flag, UP once seeding has finished and the lifecycle has left 'starting'.

import type { CheckDefinition, Health } from 'health-views';
import type { Lifecycle } from '../shared/lifecycle.js';

export function startupCheck(lifecycle: Pick<Lifecycle, 'phase'>): CheckDefinition {
  return {
    name: 'startup',
    kind: 'flag',
    initial: lifecycle.phase !== 'starting',
    publicCause: 'seeding has not finished',
  };
}

/** Pushes the flag the moment the lifecycle moves, so the change is logged, counted and streamed then. */
export function followStartup(health: Pick<Health, 'flag'>, lifecycle: Pick<Lifecycle, 'onChange'>): void {
  const flag = health.flag('startup');
  lifecycle.onChange((phase) => flag.set(phase !== 'starting', 'the lifecycle is still in its starting phase'));
}
