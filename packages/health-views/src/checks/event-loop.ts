// Event-loop delay: how late the loop ran a timer that should fire every resolutionMs (the method
// of perf_hooks.monitorEventLoopDelay, see createDelayWindow), as a percentile (or the max) of the
// window since the last run.
// A loop that cannot run its own timers cannot answer requests either: this is a liveness check.
//
// The sampler starts at the first run (when health.start() runs every check) and stops at the
// check's close, which health.close() calls: a check that is never started samples nothing, and a
// closed one leaves no timer behind. Its timer is unref'd: it never keeps a process alive.

import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import {
  checkOptionNames,
  definePolledCheck,
  numberOption,
  type BuiltInCheck,
  type BuiltInCheckOptions,
} from './options.js';
import { MAX_TIMER_MS } from '../scheduler.js';

export interface EventLoopCheckOptions<Name extends string = string> extends BuiltInCheckOptions<Name> {
  /** The delay above which the check is DOWN, in ms. Default 1000. */
  readonly limitMs?: number;
  /** Which delay of the window is judged: a percentile (above 0, at most 100) or `'max'`. Default 99. */
  readonly percentile?: number | 'max';
  /** How often the monitor samples the loop, in ms (Node's `resolution`). Default 20. */
  readonly resolutionMs?: number;
}

const DEFAULTS = { name: 'event-loop', intervalMs: 1000, timeoutMs: 1000, publicCause: 'the event loop is stalled' };

/** DOWN when the chosen delay of the window since the last run is above limitMs; the cause gives the delay. */
export function eventLoopCheck<const Name extends string = 'event-loop'>(
  options: EventLoopCheckOptions<Name> = {},
): BuiltInCheck<Name> {
  const where = checkOptionNames('eventLoopCheck', options, ['limitMs', 'percentile', 'resolutionMs']);
  numberOption(where, 'limitMs', options.limitMs, { min: 0, above: true });
  if (options.percentile !== 'max')
    numberOption(where, 'percentile', options.percentile, { min: 0, max: 100, above: true });
  // A sampling timer past a Node timer's limit fires every 1 ms and reads every delay as 0.
  numberOption(where, 'resolutionMs', options.resolutionMs, { min: 1, max: MAX_TIMER_MS, whole: true });
  const { limitMs = 1000, percentile = 99, resolutionMs = 20 } = options;
  const label = percentile === 'max' || percentile === 100 ? 'max' : `p${percentile}`;
  const window = createDelayWindow(resolutionMs, percentile);
  const run = (): void => {
    const { delayMs, windowMs } = window.take();
    if (delayMs > limitMs) {
      throw new Error(`event loop delay ${delayMs} ms exceeds ${limitMs} ms (${label} of the last ${windowMs} ms)`);
    }
  };
  return definePolledCheck(options, DEFAULTS, run, () => window.close());
}

interface DelayWindow {
  /** The delay of the window since the last take, in whole ms; the first take opens the window (0). */
  take(): { readonly delayMs: number; readonly windowMs: number };
  close(): void;
}

/**
 * The loop's lateness, sampled by an unref'd timer every resolutionMs into a histogram read and
 * reset at each take. The sampler is ours rather than monitorEventLoopDelay's: that monitor's
 * reset() also forgets its last tick, so the first interval after each read is never recorded,
 * and a stall that begins just after a run (the same tick, or before the monitor's next tick)
 * goes unreported. Here the last tick survives the reset, and a take also counts the interval
 * still open, so a stall the run itself waited behind is in this window, not the next.
 */
function createDelayWindow(resolutionMs: number, percentile: number | 'max'): DelayWindow {
  let sampler: { histogram: RecordableHistogram; timer: NodeJS.Timeout } | undefined;
  let lastTick = 0;
  let openedAt = 0;
  const record = (histogram: RecordableHistogram, now: number): void => {
    histogram.record(Math.max(1, Math.round((now - lastTick) * 1e6)));
    lastTick = now;
  };
  return {
    take() {
      const now = performance.now();
      const windowMs = Math.round(now - openedAt);
      openedAt = now;
      if (sampler === undefined) {
        const histogram = createHistogram();
        lastTick = now;
        sampler = { histogram, timer: setInterval(() => record(histogram, performance.now()), resolutionMs).unref() };
        return { delayMs: 0, windowMs: 0 };
      }
      const { histogram } = sampler;
      if (now - lastTick > resolutionMs) record(histogram, now);
      const nanoseconds =
        histogram.count === 0 ? 0 : percentile === 'max' ? histogram.max : histogram.percentile(percentile);
      histogram.reset();
      // A sample is the time between two ticks of the sampler: the interval itself is no delay.
      return { delayMs: Math.max(0, Math.round(nanoseconds / 1e6 - resolutionMs)), windowMs };
    },
    close() {
      if (sampler !== undefined) clearInterval(sampler.timer);
      sampler = undefined;
    },
  };
}
