// Keeps a polled check fresh: the next run starts an interval after the previous one settles, and
// a staleness timer turns the check UNKNOWN when no result came for maxAgeMs (a stopped loop or a
// starved event loop must not serve an old UP forever; the timer fires without any probe).

import type { Clock } from './types.js';

export interface Polling {
  start(): void;
  stop(): void;
  /** Re-arms the staleness timer: call on each result. */
  resultRecorded(): void;
}

export interface PollingOptions {
  readonly clock: Clock;
  readonly intervalMs: number;
  readonly maxAgeMs: number;
  readonly run: () => Promise<void> | undefined;
  readonly onStale: (ageMs: number) => void;
}

export function createPolling({ clock, intervalMs, maxAgeMs, run, onStale }: PollingOptions): Polling {
  let next: unknown;
  let staleness: unknown;
  let stopped = true;
  let lastResultAt: number | undefined;

  function schedule(): void {
    if (stopped) return;
    next = clock.setTimeout(() => {
      next = undefined;
      const running = run();
      if (running) void running.then(schedule);
      else schedule();
    }, intervalMs);
  }

  function armStaleness(): void {
    if (staleness !== undefined) clock.clearTimeout(staleness);
    staleness = undefined;
    if (stopped) return;
    staleness = clock.setTimeout(() => {
      staleness = undefined;
      onStale(lastResultAt === undefined ? maxAgeMs : clock.now() - lastResultAt);
    }, maxAgeMs);
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      schedule();
      armStaleness();
    },
    stop() {
      stopped = true;
      if (next !== undefined) clock.clearTimeout(next);
      next = undefined;
      armStaleness();
    },
    resultRecorded() {
      lastResultAt = clock.now();
      armStaleness();
    },
  };
}

/** The longest delay a Node timer takes; a longer one fires after 1 ms instead (TimeoutOverflowWarning). */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Keeps the process alive for at most ms of real time, until the returned release is called. The
 * clock's timers never hold the process (health must not keep a service up on its own), so while
 * start() awaits the first runs, a check whose promise holds no handle would let Node exit in the
 * middle of `await health.start()` (exit 13, before the app ever listens). A real timer, whatever
 * the clock: it is about the process staying alive, not about time.
 */
export function holdProcessOpen(ms: number): () => void {
  const timer = setTimeout(() => {}, Math.min(ms, MAX_TIMER_MS));
  return () => clearTimeout(timer);
}
