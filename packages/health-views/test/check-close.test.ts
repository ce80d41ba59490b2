// A polled check's close(): health.close() calls it once per check (what a check holds between
// runs is released with the registry), a throwing one does not stop the others, and a close that
// is not a function is refused at construction.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHealth } from '../src/registry.js';
import type { PolledCheck } from '../src/types.js';
import { FakeClock } from './helpers/fake-clock.js';

function polled(name: string, close: () => void): PolledCheck {
  return { name, run: () => true, intervalMs: 1000, timeoutMs: 100, close };
}

describe('a polled check with close()', () => {
  it('is closed once by health.close(), after a throwing close too, and not by a second health.close()', async () => {
    const closed: string[] = [];
    const health = createHealth({
      clock: new FakeClock(),
      checks: [
        polled('first', () => {
          closed.push('first');
          throw new Error('close failed');
        }),
        polled('second', () => closed.push('second')),
        { name: 'flag', kind: 'flag' },
      ],
      views: [{ name: 'all', path: '/all', checks: ['first', 'second', 'flag'] }],
    });
    await health.start();
    assert.deepEqual(closed, [], 'nothing is closed while the registry runs');
    health.close();
    assert.deepEqual(closed, ['first', 'second']);
    health.close();
    assert.deepEqual(closed, ['first', 'second'], 'close() is idempotent');
  });

  it('is refused at construction when close is not a function', () => {
    assert.throws(
      () =>
        createHealth({
          checks: [{ ...polled('db', () => {}), close: 'yes' as never }],
          views: [],
        }),
      /check "db": close must be a function when given/,
    );
  });
});
