// The registry over a fake clock: polled checks on their timers, staleness by a timer, pushed
// flags, per-view policies, events and history, and the pre-rendered plain answer.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHealth } from '../src/registry.js';
import type { HealthAnswer, HealthEvent, HealthOptions } from '../src/types.js';
import { FakeClock } from './helpers/fake-clock.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function setup(overrides: Partial<HealthOptions> = {}) {
  const clock = new FakeClock();
  const db = { ok: true, runs: 0, error: 'disk I/O error at /var/lib/x' };
  const health = createHealth({
    clock,
    checks: [
      {
        name: 'database',
        publicCause: 'the database cannot be read',
        intervalMs: 1000,
        timeoutMs: 100,
        run: () => {
          db.runs++;
          if (!db.ok) throw new Error(db.error);
        },
      },
      { name: 'shutdown', kind: 'flag', initial: true, publicCause: 'shutting down' },
      { name: 'cache', kind: 'flag', initial: true, critical: false },
    ],
    views: [
      { name: 'health', path: '/health', checks: [{ check: 'database', failureGraceMs: 30_000 }, 'cache'] },
      { name: 'ready', path: '/health/ready', checks: ['database', 'shutdown'] },
    ],
    ...overrides,
  });
  const events: HealthEvent[] = [];
  health.on((event) => events.push(event));
  return { clock, db, health, events };
}

function plain(health: ReturnType<typeof createHealth>, path: string): HealthAnswer {
  const answer = health.answer({ method: 'GET', url: path, headers: {} });
  assert.equal(answer?.kind, 'answer');
  return answer;
}

describe('registry', () => {
  it('polled checks are UNKNOWN before start, UP after, and run again on their interval', async () => {
    const { clock, db, health } = setup();
    assert.equal(health.view('ready')!.checks[0]!.status, 'UNKNOWN');
    await health.start();
    assert.equal(health.view('ready')!.status, 'UP');
    await clock.advance(3000);
    assert.equal(db.runs, 4);
    health.close();
  });

  it('a stale result turns UNKNOWN by a timer, with its event, without any probe', async () => {
    // A starved loop: the first wait for the next run lasts 5000 ms instead of 1000, so the result
    // ages out (3000 ms) before a run can refresh it.
    const { clock, health, events } = setup({
      checks: [{ name: 'queue', intervalMs: 1000, timeoutMs: 100, maxAgeMs: 3000, run: () => true }],
      views: [{ name: 'live', path: '/live', checks: ['queue'] }],
    });
    const realSetTimeout = clock.setTimeout.bind(clock);
    let starved = false;
    clock.setTimeout = (fn, ms) => {
      if (ms !== 1000 || starved) return realSetTimeout(fn, ms);
      starved = true;
      return realSetTimeout(fn, 5000);
    };
    await health.start();
    events.length = 0;
    await clock.advance(2999);
    assert.equal(events.length, 0);
    await clock.advance(1);
    const stale = events.find((event) => event.type === 'check');
    assert.equal(stale?.type === 'check' && `${stale.from}->${stale.to}`, 'UP->UNKNOWN');
    assert.match(stale?.type === 'check' ? stale.cause! : '', /stale: no result for 3000 ms/);
    assert.equal(events.find((event) => event.type === 'view')?.type, 'view');
    await clock.advance(2000);
    assert.equal(health.check('queue')!.status, 'UP', 'the next run brings it back');
    health.close();
  });

  it('maxAgeMs defaults to three intervals plus the timeout', async () => {
    const { clock, health } = setup({
      checks: [{ name: 'queue', intervalMs: 1000, timeoutMs: 100, run: () => true }],
      views: [{ name: 'live', path: '/live', checks: ['queue'] }],
    });
    // No interval timer ever fires, the staleness timer does: a loop that died looks exactly like this.
    const realSetTimeout = clock.setTimeout.bind(clock);
    clock.setTimeout = (fn, ms) => (ms === 1000 ? undefined : realSetTimeout(fn, ms));
    await health.start();
    await clock.advance(3099);
    assert.equal(health.check('queue')!.status, 'UP');
    await clock.advance(1);
    assert.equal(health.check('queue')!.status, 'UNKNOWN');
    health.close();
  });

  it('stays fresh while the loop runs, and probes never run a check', async () => {
    const { clock, db, health } = setup();
    await health.start();
    for (let second = 0; second < 60; second++) {
      for (let i = 0; i < 5; i++) health.answer({ method: 'GET', url: '/health/ready?verbose', headers: {} });
      await clock.advance(1000);
    }
    assert.equal(health.check('database')!.status, 'UP');
    assert.equal(db.runs, 61, 'one run at start, then one a second: 300 probes ran none');
    health.close();
  });

  it('events say how long the previous status lasted; unsubscribed listeners hear nothing', async () => {
    const { clock, health, events } = setup();
    const late: HealthEvent[] = [];
    const unsubscribe = health.on((event) => late.push(event));
    await clock.advance(5000);
    health.flag('shutdown').set(false);
    assert.equal(events[0]!.previousLastedMs, 5000);
    unsubscribe();
    health.flag('shutdown').set(true);
    assert.equal(late.length, 1);
    assert.equal(events.length, 2);
  });

  it('a flag change is an event at that moment, and its views change with it', () => {
    const { health, events } = setup();
    health.flag('shutdown').set(false, 'SIGTERM received');
    const kinds = events.map((e) =>
      e.type === 'check' ? `check ${e.check} ${e.from}->${e.to}` : `view ${e.view} ${e.from}->${e.to}`,
    );
    assert.deepEqual(kinds, ['check shutdown UP->DOWN']);
    const check = events[0]!;
    assert.equal(check.type === 'check' && check.cause, 'SIGTERM received');
    assert.equal(check.type === 'check' && check.publicCause, 'shutting down');
    assert.match(check.at, ISO);
    assert.equal(health.flag('shutdown').up, false);
  });

  it('a view event follows a check event when the view status changes', async () => {
    const { health, events } = setup();
    await health.start();
    events.length = 0;
    health.flag('shutdown').set(false);
    assert.deepEqual(
      events.map((e) => e.type),
      ['check', 'view'],
    );
    const view = events[1]!;
    assert.equal(view.type === 'view' && `${view.view} ${view.from}->${view.to}`, 'ready UP->DOWN');
    assert.equal(plain(health, '/health/ready').statusCode, 503);
    health.close();
  });

  it('a view can damp a check: /health waits out the grace time while /health/ready reacts at once', async () => {
    const { clock, db, health } = setup();
    await health.start();
    db.ok = false;
    await clock.advance(1000);
    assert.equal(health.view('ready')!.status, 'DOWN');
    assert.equal(health.view('health')!.status, 'UP');
    await clock.advance(29_000);
    assert.equal(health.view('health')!.status, 'UP', 'failing for 29 s < 30 s grace');
    await clock.advance(1000);
    assert.equal(health.view('health')!.status, 'DOWN');
    health.close();
  });

  it('a failing non-critical check makes the view WARN, still 200', async () => {
    const { health } = setup();
    await health.start();
    health.flag('cache').set(false);
    assert.equal(health.view('health')!.status, 'WARN');
    assert.equal(plain(health, '/health').statusCode, 200);
    health.close();
  });

  it('the plain answer is rendered once per change: probes get the same bytes; UP is {"status":"UP"}', async () => {
    const { health, db, clock } = setup();
    await health.start();
    const first = plain(health, '/health/ready');
    assert.equal(first.body.toString(), '{"status":"UP"}');
    assert.equal(plain(health, '/health/ready').body, first.body, 'the same Buffer, not a new rendering');
    db.ok = false;
    await clock.advance(1000);
    const down = plain(health, '/health/ready');
    assert.equal(down.statusCode, 503);
    assert.deepEqual(JSON.parse(down.body.toString()), {
      status: 'DOWN',
      checks: { database: { status: 'DOWN', cause: 'the database cannot be read' } },
    });
    assert.doesNotMatch(down.body.toString(), /disk I\/O/, 'no exception text in the public answer');
    health.close();
  });

  it("a view's plain answer is re-rendered when its content changes though its status does not", () => {
    const { health } = setup({
      checks: [
        { name: 'database', kind: 'flag', initial: true, publicCause: 'the database cannot be read' },
        { name: 'queue', kind: 'flag', initial: true, publicCause: 'the queue is unreachable' },
      ],
      views: [{ name: 'ready', path: '/health/ready', checks: ['database', 'queue'] }],
    });
    health.flag('database').set(false);
    assert.equal(health.view('ready')!.status, 'DOWN');
    health.flag('queue').set(false); // the view is DOWN already: only its body changes
    assert.deepEqual(JSON.parse(plain(health, '/health/ready').body.toString()), {
      status: 'DOWN',
      checks: {
        database: { status: 'DOWN', cause: 'the database cannot be read' },
        queue: { status: 'DOWN', cause: 'the queue is unreachable' },
      },
    });
  });

  it('a view can make a check non-critical for itself alone', async () => {
    const { health: other } = setup({
      checks: [{ name: 'x', kind: 'flag', initial: false }],
      views: [
        { name: 'strict', path: '/strict', checks: ['x'] },
        { name: 'lenient', path: '/lenient', checks: [{ check: 'x', critical: false }] },
      ],
    });
    assert.equal(other.view('strict')!.status, 'DOWN');
    assert.equal(other.view('lenient')!.status, 'WARN');
  });

  it('history is a bounded ring of events, oldest first', () => {
    const { health } = setup({ historySize: 3 });
    for (let i = 0; i < 4; i++) health.flag('cache').set(i % 2 === 1);
    const history = health.history();
    assert.equal(history.length, 3);
    assert.ok(history.every((event) => event.type === 'check' && event.check === 'cache'));
    const times = history.map((event) => (event.type === 'check' ? event.to : ''));
    assert.deepEqual(times, ['UP', 'DOWN', 'UP'], 'the oldest (the first DOWN) dropped, order kept');
  });

  it('every time in reports and events is an ISO 8601 string', async () => {
    const { health, events } = setup();
    await health.start();
    const report = health.check('database')!;
    assert.match(report.since, ISO);
    assert.match(report.lastResultAt!, ISO);
    assert.ok(events.every((event) => ISO.test(event.at)));
    health.close();
  });

  it('a listener that throws changes nothing for the others', () => {
    const { health, events } = setup();
    health.on(() => {
      throw new Error('listener bug');
    });
    health.flag('shutdown').set(false);
    assert.equal(events.length, 1);
  });

  it('a view with failureThreshold Infinity and a grace waits for time alone, whatever the check counts', async () => {
    const db = { ok: true };
    const { clock, health } = setup({
      checks: [
        {
          name: 'database',
          intervalMs: 1000,
          timeoutMs: 100,
          failureThreshold: 2,
          run: () => db.ok,
        },
      ],
      views: [
        {
          name: 'health',
          path: '/health',
          checks: [{ check: 'database', failureGraceMs: 10_000, failureThreshold: Number.POSITIVE_INFINITY }],
        },
        { name: 'ready', path: '/health/ready', checks: ['database'] },
      ],
    });
    await health.start();
    db.ok = false;
    await clock.advance(5000);
    assert.equal(health.view('ready')!.status, 'DOWN', "the check's own count (2) decides where not overridden");
    assert.equal(health.view('health')!.status, 'UP', 'five failures in a row, but 10 s have not passed');
    await clock.advance(6000);
    assert.equal(health.view('health')!.status, 'DOWN');
    health.close();
  });

  it('rejects bad definitions with a message naming the problem', () => {
    assert.throws(
      () =>
        setup({
          views: [
            { name: 'x', path: '/x', checks: [{ check: 'database', failureThreshold: Number.POSITIVE_INFINITY }] },
          ],
        }),
      /view "x", check "database": failureThreshold Infinity needs failureGraceMs/,
    );
    assert.throws(() => setup({ views: [{ name: 'x', path: '/x', checks: ['nope'] }] }), /view "x" names check "nope"/);
    assert.throws(
      () => setup({ checks: [{ name: 'a', intervalMs: 0, timeoutMs: 1, run: () => true }], views: [] }),
      /intervalMs must be a number from 1 to/,
    );
    assert.throws(() => setup().health.flag('database'), /no flag check named "database" \(flags: shutdown, cache\)/);
  });
});
