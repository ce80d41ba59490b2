// The real clock: its timers are unref'd so a health registry never keeps a process alive.

import type { Clock } from './types.js';

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The clock given, or the real one; one without the three members is an error naming `what`. */
export function checkedClock(clock: Clock | undefined, what: string): Clock {
  if (clock === undefined) return systemClock;
  if (
    typeof clock?.now !== 'function' ||
    typeof clock.setTimeout !== 'function' ||
    typeof clock.clearTimeout !== 'function'
  ) {
    throw new Error(`health-views: ${what} must have now(), setTimeout() and clearTimeout()`);
  }
  return clock;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
