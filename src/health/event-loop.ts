// The event-loop check (the package's): liveness is DOWN while the event loop is stalled.

import type { CheckDefinition } from 'health-views';
import { eventLoopCheck } from 'health-views/checks';
import type { Config } from '../config.js';

export function eventLoopHealthCheck(settings: Config['health']): CheckDefinition {
  // The largest delay since the last run (a single stall counts), sampled from the first run
  // until health.close().
  return eventLoopCheck({
    limitMs: settings.eventLoopDelayLimitMs,
    percentile: 'max',
    intervalMs: 1000,
    timeoutMs: 1000,
    publicCause: 'the event loop is stalled',
  });
}
