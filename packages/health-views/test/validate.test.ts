// createHealth refuses bad options at construction, with a message naming what is wrong: timer
// values Node cannot honour, flag fields that are not booleans, route paths that two adapters would
// match differently, and any two routes one request would reach (naming both).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHealth } from '../src/registry.js';
import { tcpCheck } from '../src/checks/tcp.js';
import type { CheckDefinition, HealthOptions, ViewDefinition } from '../src/types.js';
import { FakeClock } from './helpers/fake-clock.js';

const check: CheckDefinition = { name: 'db', intervalMs: 1000, timeoutMs: 100, run: () => true };

function build(overrides: Partial<HealthOptions>) {
  return createHealth({
    checks: [check],
    views: [{ name: 'ready', path: '/health/ready', checks: ['db'] }],
    ...overrides,
  });
}

function views(...list: [name: string, path: string][]): readonly ViewDefinition[] {
  return list.map(([name, path]) => ({ name, path, checks: ['db'] }));
}

describe('validation', () => {
  it('refuses a timeoutMs or intervalMs of 0, negative, NaN, Infinity, past a timer, or not a number', () => {
    for (const field of ['timeoutMs', 'intervalMs'] as const) {
      for (const value of [0, -1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, '100', undefined]) {
        assert.throws(
          () => build({ checks: [{ ...check, [field]: value as number }] }),
          // A string is quoted, so "100" (an env var passed as it is) does not read as the number 100.
          new RegExp(
            `check "db": ${field} must be a number from 1 to 2147483647 \\(got ${typeof value === 'string' ? `"${value}"` : String(value)}\\)`,
          ),
          `${field}: ${String(value)} was accepted`,
        );
      }
    }
  });

  it('refuses a maxAgeMs or watch.heartbeatMs of 0, NaN, Infinity or past a timer', () => {
    for (const value of [0, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
      assert.throws(() => build({ checks: [{ ...check, maxAgeMs: value }] }), /check "db": maxAgeMs must be a number/);
      assert.throws(() => build({ watch: { heartbeatMs: value } }), /watch.heartbeatMs must be a number/);
    }
  });

  it("caps the default maxAgeMs (3 intervals + the timeout) at a Node timer's limit", async () => {
    // Past the limit Node fires a timer after 1 ms: the check would turn stale at once.
    const clock = new FakeClock();
    const delays: number[] = [];
    const arm = clock.setTimeout.bind(clock);
    clock.setTimeout = (fn, ms) => {
      delays.push(ms);
      return arm(fn, ms);
    };
    const health = build({ clock, checks: [{ ...check, intervalMs: 2_000_000_000 }] });
    await health.start();
    health.close();
    assert.ok(delays.length > 0 && Math.max(...delays) <= 2_147_483_647, `timer delays: ${delays.join(', ')}`);
  });

  it('refuses a critical that is not a boolean and an empty or non-string publicCause, on any check and in a view', () => {
    // 'false' is truthy: taken as it is, the check would be critical, the opposite of what was meant.
    assert.throws(
      () => build({ checks: [{ ...check, critical: 'false' as never }] }),
      /check "db": critical must be true or false \(got "false"\)/,
    );
    assert.throws(
      () => build({ checks: [{ ...check, publicCause: 42 as never }] }),
      /check "db": publicCause must be a non-empty string/,
    );
    assert.throws(
      () => build({ checks: [{ ...check, publicCause: '' }] }),
      /check "db": publicCause must be a non-empty string/,
    );
    assert.throws(
      () =>
        build({ views: [{ name: 'ready', path: '/health/ready', checks: [{ check: 'db', critical: 0 as never }] }] }),
      /view "ready", check "db": critical must be true or false \(got 0\)/,
    );
    assert.throws(
      () => tcpCheck({ host: 'db', port: 5432, critical: 'no' as never }),
      /check "tcp": critical must be true or false/,
    );
    build({ checks: [{ ...check, critical: false, publicCause: 'the database is down' }] }); // and the right ones pass
  });

  it('refuses a maxAgeMs a healthy check would outlive between runs (intervalMs + timeoutMs or less)', () => {
    // check: intervalMs 1000, timeoutMs 100: a result can come 1100 ms after the last.
    for (const maxAgeMs of [500, 1100]) {
      assert.throws(
        () => build({ checks: [{ ...check, maxAgeMs }] }),
        new RegExp(`check "db": maxAgeMs must be above intervalMs \\+ timeoutMs \\(1100 ms\\).*\\(got ${maxAgeMs}\\)`),
      );
    }
    build({ checks: [{ ...check, maxAgeMs: 1101 }] });
  });

  it('refuses counts that are not whole numbers, and a watch with room for no one', () => {
    assert.throws(() => build({ historySize: 2.5 }), /historySize must be a whole number \(got 2.5\)/);
    assert.throws(
      () => build({ checks: [{ ...check, failureThreshold: 1.5 }] }),
      /failureThreshold must be a whole number/,
    );
    assert.throws(
      () => build({ checks: [{ ...check, successThreshold: 2.5 }] }),
      /successThreshold must be a whole number/,
    );
    assert.throws(() => build({ watch: { maxQueuedBytes: 1024.5 } }), /watch.maxQueuedBytes must be a whole number/);
    assert.throws(
      () => build({ watch: { maxSubscribers: 0 } }),
      /watch.maxSubscribers must be a number >= 1 \(got 0\)/,
    );
  });

  it('names the option when the clock, the disclosure or a view is not what it must be', () => {
    assert.throws(
      () => build({ clock: {} as never }),
      /^Error: health-views: option clock must have now\(\), setTimeout\(\) and clearTimeout\(\)$/,
    );
    assert.throws(() => build({ disclosure: null as never }), /health-views: disclosure must be an object/);
    assert.throws(
      () => build({ views: [{ name: 'ready', path: '/health/ready' } as never] }),
      /health-views: view "ready": checks must be an array of check names/,
    );
  });

  it("refuses a flag's healthyWhen or initial that is not a boolean, and a set() of anything else", () => {
    for (const field of ['healthyWhen', 'initial']) {
      assert.throws(
        () => build({ checks: [{ name: 'draining', kind: 'flag', [field]: 'false' }], views: [] }),
        new RegExp(`check "draining": ${field} must be true or false \\(got "false"\\)`),
      );
    }
    const health = build({ checks: [{ name: 'draining', kind: 'flag' }], views: [] });
    assert.throws(() => health.flag('draining').set('false' as unknown as boolean), /set\(\) takes true or false/);
  });

  it('refuses route paths that adapters would match differently or clients never send', () => {
    for (const path of [
      'health',
      '/health/re%61dy',
      '/health/:name',
      '/health/*',
      '/health ready',
      '/health?x',
      '/a/../b',
      '/a/./b',
      '/santé',
    ]) {
      assert.throws(
        () => build({ views: views(['ready', path]) }),
        /view "ready": path (must be \/ then letters|.* holds a \. or \.\. segment)/,
        path,
      );
    }
    assert.throws(
      () => build({ checksPath: '/health/checks/' }),
      /checksPath must not end with \/ \(got "\/health\/checks\/"\)/,
    );
    assert.throws(() => build({ watch: { path: '/health/%77atch' } }), /watch.path must be \/ then letters/);
  });

  it('refuses two routes that one request would reach, naming both', () => {
    const refused: [Partial<HealthOptions>, RegExp][] = [
      [{ views: views(['a', '/x'], ['b', '/x']) }, /view "b" at \/x collides with view "a" at the same path/],
      [
        { views: views(['a', '/health/checks']) },
        /view "a" at \/health\/checks collides with checksPath \/health\/checks \(the routes \/health\/checks and \/health\/checks\/:name\)/,
      ],
      [
        { views: views(['a', '/health/checks/db']) },
        /view "a" at \/health\/checks\/db collides with checksPath \/health\/checks/,
      ],
      [{ views: views(['a', '/health/checks/']) }, /view "a" at \/health\/checks\/ collides with checksPath/],
      [
        { views: views(['a', '/health/watch']) },
        /view "a" at \/health\/watch collides with watch.path \/health\/watch/,
      ],
      [
        { views: views(['a', '/probe/watch']), watch: { path: '/probe/watch' } },
        /view "a" at \/probe\/watch collides with watch.path/,
      ],
      [
        { checksPath: '/health', watch: false, views: views(['a', '/health/ready']) },
        /view "a" at \/health\/ready collides with checksPath \/health /,
      ],
      [{ watch: { path: '/health/checks' } }, /watch.path \/health\/checks collides with checksPath \/health\/checks/],
      [{ watch: { path: '/health/checks/watch' } }, /watch.path \/health\/checks\/watch collides with checksPath/],
      [{ checksPath: '/probe', watch: { path: '/probe' } }, /watch.path \/probe collides with checksPath \/probe/],
    ];
    for (const [options, message] of refused) assert.throws(() => build(options), message, JSON.stringify(options));
  });

  it('accepts paths that are other routes at request time, and each answers its own', () => {
    // Matching is byte for byte: a trailing slash or a letter's case makes another route; the
    // watch route and a view's are exact, so a path under them is free.
    const health = build({
      checksPath: '/probe/checks',
      views: views(
        ['ready', '/health/ready'],
        ['slash', '/health/ready/'],
        ['upper', '/Health/ready'],
        ['checks', '/health/checks'],
        ['under-watch', '/health/watch/x'],
        ['under-view', '/health/ready/x'],
      ),
    });
    for (const [path, view] of [
      ['/health/ready', 'ready'],
      ['/health/ready/', 'slash'],
      ['/Health/ready', 'upper'],
      ['/health/checks', 'checks'],
      ['/health/watch/x', 'under-watch'],
      ['/health/ready/x', 'under-view'],
    ]) {
      const answer = health.answer({ method: 'GET', url: `${path}?verbose`, headers: {} });
      assert.match(
        answer?.kind === 'answer' ? answer.body.toString() : '',
        new RegExp(`${view} check (passed|failed)`),
        path,
      );
    }
    assert.equal(health.answer({ method: 'GET', url: '/health/watch', headers: {} })?.route, '/health/watch');
    assert.equal(health.answer({ method: 'GET', url: '/probe/checks/db', headers: {} })?.route, '/probe/checks/:name');
    assert.doesNotThrow(
      () => build({ watch: false, views: views(['a', '/health/watch']) }),
      'no watch route, no collision',
    );
  });
});
