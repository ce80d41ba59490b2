// This service's checks and views, on the health-views package; each check is a file of its own
// here. Which check answers for which view:
//   check        kind                                   /health  live  ready  started
//   database     polled: a real LMDB read of seed data     x (1)          x
//   startup      flag: seeding has finished                x             x       x
//   event-loop   polled: the loop is not stalled           x        x
//   shutdown     flag: shutting down (healthy when false)                x
//   testability  flag: the demo switch (when enabled)      x        x    x
// (1) with HEALTH_REPLACE_AFTER_MS, /health turns DOWN for the database only after it has failed
// that long (Swarm replaces the container on /health); /health/ready reacts at once.

import { createHealth, type Clock, type Health, type ViewCheck, type ViewDefinition } from 'health-views';
import type { AccountStore } from '../accounts/account-store.js';
import type { Config } from '../config.js';
import type { Lifecycle } from '../shared/lifecycle.js';
import type { TestabilitySwitch } from '../testability/testability-switch.js';
import { databaseCheck, databaseForReplacement } from './database.js';
import { eventLoopHealthCheck } from './event-loop.js';
import { followShutdown, shutdownCheck } from './shutdown.js';
import { followStartup, startupCheck } from './startup.js';
import { followTestability, testabilityCheck } from './testability.js';

export interface ServiceHealthOptions {
  readonly store: Pick<AccountStore, 'check'>;
  readonly lifecycle: Lifecycle;
  readonly testability: TestabilitySwitch | undefined;
  readonly health: Config['health'];
  readonly watch: Config['watch'];
  /** Time as the checks see it; default the system's (a test drives a fake one). */
  readonly clock?: Clock | undefined;
}

export function createServiceHealth(options: ServiceHealthOptions): Health {
  const { store, lifecycle, testability, health: settings, watch } = options;
  const checks = [
    databaseCheck(store, settings),
    startupCheck(lifecycle),
    eventLoopHealthCheck(settings),
    shutdownCheck(lifecycle),
  ];
  if (testability) checks.push(testabilityCheck(testability));
  const health = createHealth({
    checks,
    views: serviceViews(settings, testability !== undefined),
    disclosure:
      settings.details === 'token' ? { mode: 'token', token: settings.token ?? '' } : { mode: settings.details },
    // No watchers: no watch route at all (404), rather than one that always answers 503.
    watch:
      watch.maxSubscribers === 0 ? false : { maxSubscribers: watch.maxSubscribers, heartbeatMs: watch.heartbeatMs },
    serviceId: 'accountservice',
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  // Flags are pushed the moment their state changes, not when some probe happens to ask.
  followStartup(health, lifecycle);
  followShutdown(health, lifecycle);
  if (testability) followTestability(health, testability);
  return health;
}

/** The four views of the table above; the testability switch, when enabled, counts in three. */
function serviceViews(settings: Config['health'], withSwitch: boolean): ViewDefinition[] {
  const checked = (names: readonly (string | ViewCheck)[]): (string | ViewCheck)[] =>
    withSwitch ? [...names, 'testability'] : [...names];
  return [
    { name: 'health', path: '/health', checks: checked([databaseForReplacement(settings), 'startup', 'event-loop']) },
    { name: 'live', path: '/health/live', checks: checked(['event-loop']) },
    { name: 'ready', path: '/health/ready', checks: checked(['database', 'startup', 'shutdown']) },
    { name: 'started', path: '/health/started', checks: ['startup'] },
  ];
}
