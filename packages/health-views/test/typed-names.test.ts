// Check, flag and view names are types: createHealth infers them from inline options, so a
// misspelling is a compile error. `npm run typecheck` checks this file: each `@ts-expect-error`
// line must be an error, or the typecheck fails. At run time the same mistakes throw or answer
// undefined, which each test asserts too (for callers that bypass the types).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { withHealth } from '../src/node-http.js';
import { createHealth } from '../src/registry.js';
import type { CheckDefinition, Health, ViewDefinition } from '../src/types.js';

function inline() {
  return createHealth({
    checks: [
      { name: 'database', intervalMs: 1000, timeoutMs: 100, run: (signal) => !signal.aborted },
      { name: 'draining', kind: 'flag', healthyWhen: false },
    ],
    views: [{ name: 'ready', path: '/ready', checks: ['database', { check: 'draining', critical: true }] }],
  });
}

describe('typed names', () => {
  it('a misspelt flag name, or a check that is not a flag, is a type error', () => {
    const health = inline();
    health.flag('draining').set(true);
    // @ts-expect-error: 'drainig' is not a flag of these options
    assert.throws(() => health.flag('drainig'), /no flag check named "drainig"/);
    // @ts-expect-error: 'database' is polled, not a flag
    assert.throws(() => health.flag('database'), /no flag check named "database"/);
  });

  it('an unknown view or check name is a type error', () => {
    const health = inline();
    assert.equal(health.view('ready')!.status, 'DOWN');
    // @ts-expect-error: no view 'nope'
    assert.equal(health.view('nope'), undefined);
    // @ts-expect-error: no check 'databse'
    assert.equal(health.check('databse'), undefined);
    // @ts-expect-error: ?exclude names a check that does not exist
    assert.equal(health.view('ready', { exclude: ['nope'] })?.checks.length, 2);
  });

  it('a view naming an undefined check is a type error', () => {
    assert.throws(
      () =>
        createHealth({
          checks: [{ name: 'database', intervalMs: 1000, timeoutMs: 100, run: () => true }],
          // @ts-expect-error: 'databse' is not one of the checks above
          views: [{ name: 'ready', path: '/ready', checks: ['databse'] }],
        }),
      /view "ready" names check "databse", which is not defined/,
    );
    assert.throws(
      () =>
        createHealth({
          checks: [{ name: 'database', intervalMs: 1000, timeoutMs: 100, run: () => true }],
          // @ts-expect-error: the same in a view's override
          views: [{ name: 'ready', path: '/ready', checks: [{ check: 'databse', failureGraceMs: 1000 }] }],
        }),
      /view "ready" names check "databse"/,
    );
  });

  it('Health with no type arguments takes any registry, and options built as variables give string names', () => {
    const anyHealth: Health = inline();
    assert.equal(typeof withHealth(inline(), () => {}), 'function', 'the adapters take a typed registry');
    const name: string = 'draining';
    anyHealth.flag(name).set(false);
    const checks: CheckDefinition[] = [{ name: 'switch', kind: 'flag' }];
    const views: ViewDefinition[] = [{ name: 'live', path: '/live', checks: ['switch'] }];
    const built: Health = createHealth({ checks, views });
    const flagName: string = 'switch';
    built.flag(flagName).set(true);
    assert.equal(built.view('live')!.status, 'UP');
  });
});
