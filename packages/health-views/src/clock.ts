// The real clock: its timers are unref'd so a health registry never keeps a process alive.

import type { Clock } from './types.js';

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
