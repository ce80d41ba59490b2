// The testability check: a flag that follows the article's demo switch (only when it is enabled).

import type { CheckDefinition, Health } from 'health-views';
import type { TestabilitySwitch } from '../testability/testability-switch.js';

export function testabilityCheck(testability: Pick<TestabilitySwitch, 'healthy'>): CheckDefinition {
  return {
    name: 'testability',
    kind: 'flag',
    initial: testability.healthy,
    publicCause: 'switched off through /testability/healthy/false',
  };
}

/** Pushes the flag the moment the switch moves, so the change is logged, counted and streamed then. */
export function followTestability(
  health: Pick<Health, 'flag'>,
  testability: Pick<TestabilitySwitch, 'onChange'>,
): void {
  const flag = health.flag('testability');
  testability.onChange((healthy) => flag.set(healthy, 'the testability switch was set to false'));
}
