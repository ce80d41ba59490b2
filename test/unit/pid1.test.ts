// The gate of every test that runs the service as PID 1 (test/helpers/pid1.ts): where unshare
// cannot make a PID namespace (no root), the test fails in CI and is skipped, with the reason,
// elsewhere; it never passes without having run.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pid1Possible } from '../helpers/pid1.js';

/** A test context that records its skip. */
function context(): { skipped: string[]; skip(message?: string): void } {
  const skipped: string[] = [];
  return { skipped, skip: (message?: string) => void skipped.push(message ?? '') };
}

test('where the service can run as PID 1, the test goes on, in CI or not', () => {
  for (const ci of [false, true]) {
    const t = context();
    assert.equal(pid1Possible(t, ci, undefined), true);
    assert.deepEqual(t.skipped, []);
  }
});

test('where it cannot, outside CI: the test is skipped with the reason and does not go on', () => {
  const t = context();
  assert.equal(pid1Possible(t, false, 'unshare --pid failed (needs root)'), false);
  assert.deepEqual(t.skipped, ['unshare --pid failed (needs root); in CI this fails']);
});

test('where it cannot, in CI: the test fails with the reason, and is not skipped', () => {
  const t = context();
  assert.throws(() => pid1Possible(t, true, 'unshare --pid failed (needs root)'), {
    name: 'AssertionError',
    message: 'the service cannot run as PID 1 here (unshare --pid failed (needs root)): in CI every test must run',
  });
  assert.deepEqual(t.skipped, []);
});
