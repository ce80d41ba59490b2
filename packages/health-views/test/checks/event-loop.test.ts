// eventLoopCheck against the real event loop: a bounded busy-wait blocks it longer than the limit
// and the next run is DOWN with the measured delay; the window is the time since the last run,
// its first interval included; the percentile decides what one stall weighs; and health.close()
// stops the sampler.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { createHealth } from '../../src/registry.js';
import { eventLoopCheck } from '../../src/checks/event-loop.js';
import type { HealthEvent } from '../../src/types.js';
import { waitUntil } from '../helpers/deadline.js';

/** Blocks the event loop for ms: the stall under test (bounded by its own length). */
function blockLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Busy: no timer, no I/O, no monitor sample can run meanwhile.
  }
}

/** Runs the check's run synchronously: undefined when UP, the cause when it threw. */
function runOnce(run: (signal: AbortSignal) => unknown): string | undefined {
  try {
    run(new AbortController().signal);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Lets the monitor's timer tick for ms (the window being measured), the loop free. */
const idle = (ms: number): Promise<void> => delay(ms);

describe('eventLoopCheck', () => {
  it('is DOWN after the loop was blocked longer than the limit, with the delay; UP again for the next window', async () => {
    const check = eventLoopCheck({ limitMs: 100, percentile: 'max' });
    const health = createHealth({ checks: [check], views: [{ name: 'live', path: '/live', checks: ['event-loop'] }] });
    try {
      await health.start();
      assert.equal(health.check('event-loop')!.status, 'UP', 'the first run opens the window');
      await idle(100);
      blockLoop(400);
      await idle(50);
      const cause = runOnce(check.run);
      const measured = /^event loop delay (\d+) ms exceeds 100 ms \(max of the last (\d+) ms\)$/.exec(cause ?? '');
      assert.ok(measured, `expected the delay in the cause, got ${String(cause)}`);
      const delayMs = Number(measured[1]);
      assert.ok(delayMs >= 300 && delayMs <= 2000, `a 400 ms block measured as ${delayMs} ms`);
      assert.ok(Number(measured[2]) >= 500, `the window since the last run is ${measured[2]} ms`);
      await idle(100);
      assert.equal(runOnce(check.run), undefined, 'a window without a stall is UP again');
    } finally {
      health.close();
    }
  });

  it('reports a stall that begins just after a run: the first interval after a read counts', async () => {
    const check = eventLoopCheck({ limitMs: 100, percentile: 'max' });
    try {
      runOnce(check.run);
      await idle(100);
      assert.equal(runOnce(check.run), undefined, 'a quiet window');
      blockLoop(300);
      await idle(50);
      assert.match(runOnce(check.run) ?? 'UP', /^event loop delay \d+ ms exceeds 100 ms/);
    } finally {
      check.close!();
    }
  });

  it('a run that waited behind a stall reports it in its own window, and only once', async () => {
    const check = eventLoopCheck({ limitMs: 100, percentile: 'max' });
    try {
      runOnce(check.run);
      await idle(100);
      blockLoop(300);
      assert.match(runOnce(check.run) ?? 'UP', /^event loop delay \d+ ms exceeds 100 ms/, 'the run behind the stall');
      await idle(50);
      assert.equal(runOnce(check.run), undefined, 'the next window');
    } finally {
      check.close!();
    }
  });

  it('turns DOWN through the registry on its timer, the delay in the event and the fixed public cause', async () => {
    const check = eventLoopCheck({ name: 'loop', limitMs: 50, intervalMs: 20 });
    const health = createHealth({ checks: [check], views: [{ name: 'live', path: '/live', checks: ['loop'] }] });
    const events: HealthEvent[] = [];
    health.on((event) => events.push(event));
    try {
      await health.start();
      // The monitor's first tick only starts its clock: a stall is measured from the second on.
      await idle(50);
      blockLoop(300);
      const down = await waitUntil(
        () => events.find((event) => event.type === 'check' && event.to === 'DOWN'),
        (event) => event !== undefined,
        2000,
        'the check to turn DOWN',
      );
      assert.ok(down?.type === 'check');
      assert.match(down.cause ?? '', /^event loop delay \d+ ms exceeds 50 ms \(p99 of the last \d+ ms\)$/);
      assert.equal(down.publicCause, 'the event loop is stalled');
    } finally {
      health.close();
    }
  });

  it('judges the chosen percentile: one stall among many ticks fails the max, not the median', async () => {
    const max = eventLoopCheck({ limitMs: 100, percentile: 'max', resolutionMs: 10 });
    const median = eventLoopCheck({ limitMs: 100, percentile: 50, resolutionMs: 10 });
    runOnce(max.run);
    runOnce(median.run);
    try {
      await idle(500);
      blockLoop(250);
      await idle(50);
      assert.match(runOnce(max.run) ?? 'UP', /^event loop delay \d+ ms exceeds 100 ms \(max of/);
      assert.equal(runOnce(median.run), undefined, 'the median of ~50 ticks ignores one stall');
    } finally {
      max.close!();
      median.close!();
    }
  });

  it('stops sampling at health.close(): a stall after it is not reported by a later run', async () => {
    const check = eventLoopCheck({ limitMs: 100, percentile: 'max' });
    const health = createHealth({ checks: [check], views: [{ name: 'live', path: '/live', checks: ['event-loop'] }] });
    await health.start();
    health.close();
    blockLoop(300);
    await idle(50);
    // A run after close opens a new window: the closed sampler and what it would have seen are gone.
    assert.equal(runOnce(check.run), undefined);
    check.close!();
  });

  it('refuses bad options at construction, naming the option', () => {
    assert.throws(
      () => eventLoopCheck({ limitMs: 0 }),
      /eventLoopCheck\(\): limitMs must be a number above 0 \(got 0\)/,
    );
    assert.throws(() => eventLoopCheck({ percentile: 0 }), /percentile must be a number above 0 to 100/);
    assert.throws(
      () => eventLoopCheck({ percentile: 'p99' as never }),
      /percentile must be a number above 0 to 100 \(got "p99"\)/,
    );
    assert.throws(() => eventLoopCheck({ resolutionMs: 0.5 }), /resolutionMs must be a whole number from 1/);
    // Past a timer's limit the sampler would tick every 1 ms and read every delay as 0: never DOWN.
    assert.throws(
      () => eventLoopCheck({ resolutionMs: 2 ** 31 }),
      /resolutionMs must be a whole number from 1 to 2147483647/,
    );
    assert.throws(() => eventLoopCheck({ limit: 100 } as never), /unknown option "limit"/);
  });
});
