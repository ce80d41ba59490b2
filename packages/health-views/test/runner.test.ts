// One run of a check: the Check() bool contract, the timeout and its abort, single flight, and a
// hung run that is never restarted until it settles.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRunner, type RunResult } from '../src/runner.js';
import { FakeClock } from './helpers/fake-clock.js';

function runner(check: (signal: AbortSignal) => unknown, clock = new FakeClock(), timeoutMs = 100) {
  const results: RunResult[] = [];
  return { results, clock, runner: createRunner({ check, timeoutMs, clock, onResult: (r) => results.push(r) }) };
}

describe('runner', () => {
  it('a check that returns false is DOWN; one that returns anything else is UP', () => {
    for (const [value, ok] of [
      [false, false],
      [true, true],
      [undefined, true],
      [0, true],
      ['', true],
    ] as const) {
      const { results, runner: r } = runner(() => value);
      void r.run();
      assert.equal(results[0]!.ok, ok, `returning ${JSON.stringify(value)}`);
    }
  });

  it('a check that resolves to false is DOWN; resolving anything else is UP', async () => {
    const down = runner(async () => false);
    await down.runner.run();
    assert.equal(down.results[0]!.ok, false);
    const upRun = runner(async () => 'fine');
    await upRun.runner.run();
    assert.equal(upRun.results[0]!.ok, true);
  });

  it('a check that throws or rejects is DOWN with the error text as its cause', async () => {
    const thrown = runner(() => {
      throw new TypeError('cannot read x of undefined');
    });
    void thrown.runner.run();
    assert.deepEqual([thrown.results[0]!.ok, thrown.results[0]!.cause], [false, 'cannot read x of undefined']);
    const rejected = runner(() => Promise.reject(new Error('ECONNREFUSED')));
    await rejected.runner.run();
    assert.equal(rejected.results[0]!.cause, 'ECONNREFUSED');
  });

  it('a synchronous check is recorded at once: no promise, no timer', () => {
    const { results, clock, runner: r } = runner(() => true);
    assert.equal(r.run(), undefined);
    assert.equal(results.length, 1);
    assert.equal(clock.pendingTimers(), 0);
  });

  it('a run past its timeout is DOWN and its signal aborts', async () => {
    let seen: AbortSignal | undefined;
    const {
      results,
      clock,
      runner: r,
    } = runner((signal) => {
      seen = signal;
      return new Promise(() => {});
    });
    void r.run();
    await clock.advance(100);
    assert.equal(results[0]!.ok, false);
    assert.match(results[0]!.cause!, /timed out after 100 ms/);
    assert.equal(seen!.aborted, true);
  });

  it('a hung run is not restarted until it settles', async () => {
    let runs = 0;
    let release: () => void = () => {};
    const {
      results,
      clock,
      runner: r,
    } = runner(() => {
      runs++;
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    void r.run();
    await clock.advance(100);
    assert.equal(r.run(), undefined, 'a run was started or joined while the first hangs');
    assert.equal(runs, 1, 'no second run while the first hangs');
    assert.equal(results[1]!.ok, false);
    assert.match(results[1]!.cause!, /has not returned/);
    release();
    await clock.advance(0);
    assert.notEqual(r.run(), undefined, 'no new run once the hung one settled');
    assert.equal(runs, 2);
  });

  it('stop() aborts the run under way, clears its timer, ignores its result and refuses new runs', async () => {
    let runs = 0;
    let seen: AbortSignal | undefined;
    let release: (value: boolean) => void = () => {};
    const {
      results,
      clock,
      runner: r,
    } = runner((signal) => {
      runs++;
      seen = signal;
      return new Promise<boolean>((resolve) => {
        release = resolve;
      });
    });
    const running = r.run();
    r.stop('closing');
    await running;
    assert.equal(seen!.aborted, true);
    assert.equal(clock.pendingTimers(), 0, 'the timeout timer is still armed');
    release(false);
    await clock.advance(1000);
    assert.deepEqual(results, [], 'a result was recorded after stop()');
    assert.equal(r.run(), undefined);
    assert.equal(runs, 1);
  });

  it('askers during a run share it (single flight)', async () => {
    let runs = 0;
    const { clock, runner: r } = runner(() => {
      runs++;
      return new Promise<void>((resolve) => clock.setTimeout(resolve, 10));
    });
    const first = r.run();
    const second = r.run();
    assert.equal(first, second);
    await clock.advance(10);
    assert.equal(runs, 1);
  });
});
