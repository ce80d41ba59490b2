// This service's checks and views, on the health-views package. Which check answers for which view:
//   check        kind                                   /health  live  ready  started
//   database     polled: a real LMDB read of seed data     x (1)          x
//   startup      flag: seeding has finished                x             x       x
//   event-loop   polled: the loop is not stalled           x        x
//   shutdown     flag: shutting down (healthy when false)                x
//   testability  flag: the demo switch (when enabled)      x        x    x
// (1) with HEALTH_REPLACE_AFTER_MS, /health turns DOWN for the database only after it has failed
// that long (Swarm replaces the container on /health); /health/ready reacts at once.

import { createHealth, type CheckDefinition, type Health, type ViewCheck, type ViewDefinition } from 'health-views';
import { eventLoopCheck } from 'health-views/checks';
import type { AccountStore } from '../accounts/account-store.js';
import type { Config } from '../config.js';
import type { Lifecycle } from '../shared/lifecycle.js';
import type { TestabilitySwitch } from '../testability/testability-switch.js';
import type { Clock } from './clock.js';

/** The public causes: what any client may learn about a failing check. Fixed words, never exception text. */
export const PUBLIC_CAUSES = {
  database: 'the database cannot be read',
  startup: 'seeding has not finished',
  'event-loop': 'the event loop is stalled',
  shutdown: 'shutting down: not taking new work',
  testability: 'switched off through /testability/healthy/false',
} as const;

export interface ServiceHealthOptions {
  readonly store: Pick<AccountStore, 'check'>;
  readonly lifecycle: Lifecycle;
  readonly testability: TestabilitySwitch | undefined;
  readonly health: Config['health'];
  readonly watch: Config['watch'];
  readonly clock?: Clock | undefined;
}

export function createServiceHealth(options: ServiceHealthOptions): Health {
  const { store, lifecycle, testability, health: settings } = options;
  const checks: CheckDefinition[] = [
    {
      name: 'database',
      run: () => store.check(),
      intervalMs: settings.checkIntervalMs,
      timeoutMs: settings.checkTimeoutMs,
      publicCause: PUBLIC_CAUSES.database,
      failureThreshold: settings.database.failureThreshold,
      successThreshold: settings.database.successThreshold,
      ...(settings.database.failureGraceMs === undefined ? {} : { failureGraceMs: settings.database.failureGraceMs }),
    },
    { name: 'startup', kind: 'flag', initial: lifecycle.phase !== 'starting', publicCause: PUBLIC_CAUSES.startup },
    // The largest delay since the last run (a single stall counts), sampled from the first run
    // until health.close().
    eventLoopCheck({
      limitMs: settings.eventLoopDelayLimitMs,
      percentile: 'max',
      intervalMs: 1000,
      timeoutMs: 1000,
      publicCause: PUBLIC_CAUSES['event-loop'],
    }),
    {
      name: 'shutdown',
      kind: 'flag',
      healthyWhen: false,
      initial: lifecycle.phase === 'shutting-down',
      publicCause: PUBLIC_CAUSES.shutdown,
    },
  ];
  if (testability) {
    checks.push({
      name: 'testability',
      kind: 'flag',
      initial: testability.healthy,
      publicCause: PUBLIC_CAUSES.testability,
    });
  }
  const withSwitch = (names: readonly (string | ViewCheck)[]): (string | ViewCheck)[] =>
    testability ? [...names, 'testability'] : [...names];
  // Replacement waits for the database; routing (ready) does not. Time alone decides in /health,
  // whatever the database check's own count.
  const databaseForReplacement: string | ViewCheck =
    settings.replaceAfterMs === 0
      ? 'database'
      : { check: 'database', failureGraceMs: settings.replaceAfterMs, failureThreshold: Number.POSITIVE_INFINITY };
  const views: ViewDefinition[] = [
    { name: 'health', path: '/health', checks: withSwitch([databaseForReplacement, 'startup', 'event-loop']) },
    { name: 'live', path: '/health/live', checks: withSwitch(['event-loop']) },
    { name: 'ready', path: '/health/ready', checks: withSwitch(['database', 'startup', 'shutdown']) },
    { name: 'started', path: '/health/started', checks: ['startup'] },
  ];
  const health = createHealth({
    checks,
    views,
    disclosure:
      settings.details === 'token' ? { mode: 'token', token: settings.token ?? '' } : { mode: settings.details },
    watch: { maxSubscribers: options.watch.maxSubscribers, heartbeatMs: options.watch.heartbeatMs },
    serviceId: 'accountservice',
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });

  // Flags are pushed the moment their state changes, so the change is logged, counted and
  // streamed then, not when some probe happens to ask.
  const startup = health.flag('startup');
  const shutdown = health.flag('shutdown');
  lifecycle.onChange((phase) => {
    startup.set(phase !== 'starting', 'the lifecycle is still in its starting phase');
    shutdown.set(phase === 'shutting-down', 'a stop signal began the shutdown sequence');
  });
  if (testability) {
    const flag = health.flag('testability');
    testability.onChange((healthy) => flag.set(healthy, 'the testability switch was set to false'));
  }
  return health;
}
