// The service's concrete checks, and which probe each one answers for.
//   database     a real LMDB read of seeded data, in the background     /health, ready
//   startup      seeding has finished                                   /health, ready, started
//   event-loop   the loop is not stalled                                /health, live
//   shutdown     not shutting down                                      ready
//   testability  the demo switch (only when enabled)                    /health, live, ready

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { StoreUnavailableError, type AccountStore } from '../accounts/account-store.js';
import type { Lifecycle } from '../lifecycle.js';
import type { TestabilitySwitch } from '../testability/testability-switch.js';
import type { CheckDefinition } from './health-registry.js';

export interface ServiceCheckOptions {
  readonly store: Pick<AccountStore, 'check'>;
  readonly lifecycle: Lifecycle;
  readonly testability: TestabilitySwitch | undefined;
  readonly eventLoop: EventLoopMonitor;
  readonly checkIntervalMs: number;
  readonly checkTimeoutMs: number;
  readonly eventLoopDelayLimitMs: number;
  /** Flap damping for the database check (see CheckDefinition). */
  readonly database?: Pick<CheckDefinition, 'failureThreshold' | 'successThreshold' | 'failureGraceMs'>;
}

export function createServiceChecks(options: ServiceCheckOptions): CheckDefinition[] {
  const { store, lifecycle, testability, eventLoop } = options;
  const checks: CheckDefinition[] = [
    {
      name: 'database',
      run: () => checkDatabase(store),
      timeoutMs: options.checkTimeoutMs,
      refresh: { mode: 'background', intervalMs: options.checkIntervalMs },
      views: ['health', 'ready'],
      ...options.database,
    },
    {
      name: 'startup',
      run: () => {
        if (lifecycle.phase === 'starting') throw new Error('seeding has not finished');
      },
      timeoutMs: 100,
      refresh: { mode: 'on-demand', cacheMs: 0 },
      views: ['health', 'ready', 'started'],
    },
    {
      name: 'event-loop',
      run: () => {
        const delayMs = eventLoop.takeMaxDelayMs();
        if (delayMs > options.eventLoopDelayLimitMs) {
          throw new Error(`event loop delay ${delayMs} ms exceeds ${options.eventLoopDelayLimitMs} ms`);
        }
      },
      timeoutMs: 1000,
      refresh: { mode: 'background', intervalMs: 1000 },
      views: ['health', 'live'],
    },
    {
      name: 'shutdown',
      run: () => {
        if (lifecycle.phase === 'shutting-down') throw new Error('shutting down: not taking new work');
      },
      timeoutMs: 100,
      refresh: { mode: 'on-demand', cacheMs: 0 },
      views: ['ready'],
    },
  ];
  if (testability) {
    checks.push({
      name: 'testability',
      run: () => {
        if (!testability.healthy) throw new Error('switched off through /testability/healthy/false');
      },
      timeoutMs: 100,
      refresh: { mode: 'on-demand', cacheMs: 0 },
      views: ['health', 'live', 'ready'],
    });
  }
  return checks;
}

/**
 * A StoreUnavailableError says what cannot be read and why, in words meant to be shown. Anything
 * else is a bug whose message may hold internal paths, and /health shows a failing check's cause to
 * any client: it gets a cause that names only the kind of error.
 */
async function checkDatabase(store: Pick<AccountStore, 'check'>): Promise<void> {
  try {
    await store.check();
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw error;
    const code = (error as { code?: unknown } | null)?.code;
    const kind = error instanceof Error ? `${error.name}${typeof code === 'string' ? ` ${code}` : ''}` : typeof error;
    throw new Error(`the database check failed with an unexpected error (${kind})`, { cause: error });
  }
}

export interface EventLoopMonitor {
  /** The largest event loop delay seen since the last call, in whole ms. */
  takeMaxDelayMs(): number;
  stop(): void;
}

export function createEventLoopMonitor(resolutionMs = 20): EventLoopMonitor {
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  return {
    takeMaxDelayMs() {
      // The histogram counts the sampling interval itself; subtract it to report the stall.
      const maxMs = Math.max(0, histogram.max / 1e6 - resolutionMs);
      histogram.reset();
      return Math.round(maxMs);
    },
    stop: () => histogram.disable(),
  };
}
