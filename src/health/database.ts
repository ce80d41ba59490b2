// The database check: a real read of seed data from the store, polled in the background. Routing
// (/health/ready) reacts to it at once; replacement (/health, the view Docker's HEALTHCHECK
// probes) waits HEALTH_REPLACE_AFTER_MS for it when that is set.

import type { CheckDefinition, ViewCheck } from 'health-views';
import type { AccountStore } from '../accounts/account-store.js';
import type { Config } from '../config.js';

export function databaseCheck(store: Pick<AccountStore, 'check'>, settings: Config['health']): CheckDefinition {
  const { failureThreshold, successThreshold, failureGraceMs } = settings.database;
  return {
    name: 'database',
    run: () => store.check(),
    intervalMs: settings.checkIntervalMs,
    timeoutMs: settings.checkTimeoutMs,
    // What any client may learn about the failure: fixed words, never exception text.
    publicCause: 'the database cannot be read',
    ...(failureThreshold === undefined ? {} : { failureThreshold }),
    successThreshold,
    ...(failureGraceMs === undefined ? {} : { failureGraceMs }),
  };
}

/**
 * The database as /health counts it: time alone decides there, whatever the check's own count,
 * so that a container is replaced only for a database that has failed for replaceAfterMs.
 */
export function databaseForReplacement(settings: Config['health']): string | ViewCheck {
  return settings.replaceAfterMs === 0
    ? 'database'
    : { check: 'database', failureGraceMs: settings.replaceAfterMs, failureThreshold: Number.POSITIVE_INFINITY };
}
