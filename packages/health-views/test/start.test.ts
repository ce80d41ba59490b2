// start() and close(): the first runs bound by their timeouts, the process kept alive while they
// are awaited (a real child process: what Node does with an unsettled top-level await), and a
// close() during start() that leaves nothing running or armed.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHealth } from '../src/registry.js';
import type { HealthEvent } from '../src/types.js';
import { runProgram } from './helpers/child.js';
import { FakeClock } from './helpers/fake-clock.js';

const hungProgram = new URL('./fixtures/start-with-hung-check.ts', import.meta.url);

/** One polled check whose runs are controlled by the test; each run's signal is kept. */
function setup(run: (signal: AbortSignal) => unknown, timeoutMs = 100) {
  const clock = new FakeClock();
  const signals: AbortSignal[] = [];
  const health = createHealth({
    clock,
    checks: [
      {
        name: 'slow',
        intervalMs: 1000,
        timeoutMs,
        run: (signal) => {
          signals.push(signal);
          return run(signal);
        },
      },
    ],
    views: [{ name: 'ready', path: '/ready', checks: ['slow'] }],
  });
  const events: HealthEvent[] = [];
  health.on((event) => events.push(event));
  let settled = false;
  const started = health.start().then(() => {
    settled = true;
  });
  return { clock, health, signals, events, started, isSettled: () => settled };
}

describe('start() and close()', () => {
  it('await start() with a hung first check keeps the process alive and settles at its timeout', async () => {
    const exited = await runProgram(hungProgram, ['300'], 20_000);
    assert.equal(
      exited.code,
      0,
      `expected exit 0 after start() settled, got ${exited.code} (13: Node gave up on the await); stderr: ${exited.stderr}`,
    );
    const line = JSON.parse(exited.stdout.trim()) as { check: { status: string; cause: string } };
    assert.deepEqual([line.check.status, line.check.cause], ['DOWN', 'timed out after 300 ms']);
  });

  it('close() during start() settles it at once and lets the process exit', async () => {
    // The check's timeout is a minute: exiting within the deadline means close() ended the run.
    const exited = await runProgram(hungProgram, ['60000', 'close'], 20_000);
    assert.equal(exited.code, 0, `stderr: ${exited.stderr}`);
    assert.match(exited.stdout, /"settled":true/);
  });

  it('start() settles at the timeout of a hung first run, not before and not later', async () => {
    const { clock, health, isSettled } = setup(() => new Promise(() => {}));
    await clock.advance(99);
    assert.equal(isSettled(), false, 'settled before the timeout');
    await clock.advance(1);
    assert.equal(isSettled(), true, 'still pending at the timeout');
    assert.equal(health.check('slow')!.cause, 'timed out after 100 ms');
    health.close();
  });

  it('close() during start(): start() settles, the run is aborted, no timer is armed, nothing runs again', async () => {
    let runs = 0;
    const { clock, health, signals, events, started, isSettled } = setup(() => {
      runs++;
      return new Promise((resolve) => clock.setTimeout(() => resolve(true), 50));
    });
    health.close();
    await clock.advance(0);
    assert.equal(isSettled(), true, 'start() still pending after close()');
    await started;
    assert.equal(signals[0]!.aborted, true, 'the run under way was not aborted');
    await clock.advance(50); // the check's own promise settles now: ignored
    assert.equal(clock.pendingTimers(), 0, `timers still armed after close(): ${clock.pendingTimers()}`);
    await clock.advance(10_000);
    assert.equal(runs, 1, `the check ran ${runs} times; it must not run after close()`);
    assert.deepEqual(events, [], 'a result recorded after close()');
  });

  it('a second start() joins the first; start() after close() runs nothing', async () => {
    let runs = 0;
    const { clock, health, started } = setup(() => {
      runs++;
      return new Promise((resolve) => clock.setTimeout(() => resolve(true), 10));
    });
    assert.equal(health.start(), health.start());
    await clock.advance(10);
    await started;
    assert.equal(runs, 1);
    health.close();
    await health.start();
    await clock.advance(5000);
    assert.equal(runs, 1);
  });
});
