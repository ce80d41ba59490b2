// Each rule of the health core has its own small test, driven by a fake clock: no sleeps.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  aggregate,
  createHealthRegistry,
  type CheckDefinition,
  type Transition,
} from '../../src/health/health-registry.js';
import { FakeClock } from '../helpers/fake-clock.js';

/** A check whose outcome the test sets, counting its runs. */
function controllable(name: string, overrides: Partial<CheckDefinition> = {}) {
  const control = { ok: true, cause: 'broken', runs: 0 };
  const def: CheckDefinition = {
    name,
    run: () => {
      control.runs++;
      if (!control.ok) throw new Error(control.cause);
    },
    timeoutMs: 100,
    refresh: { mode: 'on-demand', cacheMs: 0 },
    views: ['health', 'ready'],
    ...overrides,
  };
  return { def, control };
}

/** A check that takes ms of fake time and can be told to never return. */
function slow(clock: FakeClock, name: string, ms: number, overrides: Partial<CheckDefinition> = {}) {
  const control = { runs: 0, hang: false };
  const def: CheckDefinition = {
    name,
    run: () => {
      control.runs++;
      if (control.hang) return new Promise(() => {});
      return new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
    },
    timeoutMs: 1000,
    refresh: { mode: 'on-demand', cacheMs: 0 },
    views: ['health'],
    ...overrides,
  };
  return { def, control };
}

describe('aggregate', () => {
  it('is UP when every check is UP, and when there are none', () => {
    assert.equal(aggregate([]), 'UP');
    assert.equal(aggregate([{ status: 'UP', critical: true }, { status: 'UP', critical: false }]), 'UP');
  });
  it('is DOWN when a critical check is DOWN', () => {
    assert.equal(aggregate([{ status: 'UP', critical: true }, { status: 'DOWN', critical: true }]), 'DOWN');
  });
  it('is DOWN when a critical check is UNKNOWN: no evidence is not health', () => {
    assert.equal(aggregate([{ status: 'UNKNOWN', critical: true }]), 'DOWN');
  });
  it('only warns when a non-critical check fails', () => {
    assert.equal(aggregate([{ status: 'UP', critical: true }, { status: 'DOWN', critical: false }]), 'WARN');
    assert.equal(aggregate([{ status: 'UNKNOWN', critical: false }]), 'WARN');
  });
  it('lets a critical failure win over a warning', () => {
    assert.equal(aggregate([{ status: 'DOWN', critical: false }, { status: 'DOWN', critical: true }]), 'DOWN');
  });
});

describe('health registry', () => {
  it('reports UNKNOWN before a background check has run, and UP after start()', async () => {
    const clock = new FakeClock();
    const { def } = controllable('db', { refresh: { mode: 'background', intervalMs: 1000 } });
    const registry = createHealthRegistry([def], { clock });
    const before = await registry.evaluate('health');
    assert.equal(before.status, 'DOWN');
    assert.equal(before.checks[0]!.status, 'UNKNOWN');
    await registry.start();
    const after = await registry.evaluate('health');
    assert.equal(after.status, 'UP');
    registry.stop();
  });

  it('marks a failing check DOWN with its cause', async () => {
    const { def, control } = controllable('db');
    control.ok = false;
    control.cause = 'disk on fire';
    const registry = createHealthRegistry([def], { clock: new FakeClock() });
    const report = await registry.evaluate('health');
    assert.equal(report.status, 'DOWN');
    assert.equal(report.checks[0]!.status, 'DOWN');
    assert.equal(report.checks[0]!.cause, 'disk on fire');
  });

  it('turns a check that exceeds its timeout DOWN with "timed out after N ms", and never hangs', async () => {
    const clock = new FakeClock();
    const { def, control } = slow(clock, 'db', 10, { timeoutMs: 100 });
    control.hang = true;
    const registry = createHealthRegistry([def], { clock });
    const pending = registry.evaluate('health');
    await clock.advance(100);
    const report = await pending;
    assert.equal(report.checks[0]!.status, 'DOWN');
    assert.equal(report.checks[0]!.cause, 'timed out after 100 ms');
  });

  it('aborts the signal of a check that takes one when it times out', async () => {
    const clock = new FakeClock();
    let seen: AbortSignal | undefined;
    const registry = createHealthRegistry(
      [
        {
          name: 'db',
          run: (signal: AbortSignal) => {
            seen = signal;
            return new Promise(() => {});
          },
          timeoutMs: 100,
          refresh: { mode: 'on-demand', cacheMs: 0 },
          views: ['health'],
        },
      ],
      { clock },
    );
    const pending = registry.evaluate('health');
    await clock.advance(99);
    assert.equal(seen?.aborted, false);
    await clock.advance(1);
    await pending;
    assert.equal(seen?.aborted, true, 'the check is told to give up');
  });

  it('records a synchronous check at once, arming no timer for it', async () => {
    const clock = new FakeClock();
    const ok = controllable('flag');
    const bad = controllable('other');
    bad.control.ok = false;
    bad.control.cause = 'switched off';
    const registry = createHealthRegistry([ok.def, bad.def], { clock });
    const report = await registry.evaluate('health');
    assert.equal(clock.pendingTimers(), 0, 'no timeout timer, no deadline timer');
    assert.deepEqual(
      report.checks.map((c) => [c.name, c.status, c.cause]),
      [
        ['flag', 'UP', undefined],
        ['other', 'DOWN', 'switched off'],
      ],
    );
  });

  it('does not start another run while a timed-out run is still hanging', async () => {
    const clock = new FakeClock();
    const { def, control } = slow(clock, 'db', 10, { timeoutMs: 100 });
    control.hang = true;
    const registry = createHealthRegistry([def], { clock });
    const first = registry.evaluate('health');
    await clock.advance(100);
    await first;
    for (let i = 0; i < 5; i++) {
      const report = await registry.evaluate('health');
      assert.equal(report.checks[0]!.status, 'DOWN');
      assert.match(report.checks[0]!.cause!, /timed out after 100 ms/);
    }
    assert.equal(control.runs, 1);
  });

  it('shares one run among many concurrent requests for an on-demand check', async () => {
    const clock = new FakeClock();
    const { def, control } = slow(clock, 'db', 50, { refresh: { mode: 'on-demand', cacheMs: 1000 } });
    const registry = createHealthRegistry([def], { clock });
    const requests = Array.from({ length: 100 }, () => registry.evaluate('health'));
    await clock.advance(50);
    const reports = await Promise.all(requests);
    assert.ok(reports.every((report) => report.status === 'UP'));
    assert.equal(control.runs, 1);
  });

  it('answers from the cache until cacheMs has passed, then runs again', async () => {
    const clock = new FakeClock();
    const { def, control } = controllable('db', { refresh: { mode: 'on-demand', cacheMs: 1000 } });
    const registry = createHealthRegistry([def], { clock });
    await registry.evaluate('health');
    await clock.advance(999);
    await registry.evaluate('health');
    assert.equal(control.runs, 1);
    await clock.advance(1);
    await registry.evaluate('health');
    assert.equal(control.runs, 2);
  });

  it('runs a background check once per interval whatever the number of requests', async () => {
    const clock = new FakeClock();
    const { def, control } = controllable('db', { refresh: { mode: 'background', intervalMs: 1000 } });
    const registry = createHealthRegistry([def], { clock });
    await registry.start();
    assert.equal(control.runs, 1);
    for (let second = 0; second < 5; second++) {
      await Promise.all(Array.from({ length: 50 }, () => registry.evaluate('health')));
      await clock.advance(1000);
    }
    assert.equal(control.runs, 6);
    registry.stop();
    await clock.advance(5000);
    assert.equal(control.runs, 6);
  });

  it('runs the checks of a view in parallel', async () => {
    const clock = new FakeClock();
    const a = slow(clock, 'a', 100);
    const b = slow(clock, 'b', 100);
    const registry = createHealthRegistry([a.def, b.def], { clock });
    let done = false;
    const pending = registry.evaluate('health').then((report) => {
      done = true;
      return report;
    });
    await clock.advance(100);
    assert.equal(done, true, 'two 100 ms checks finish together at 100 ms, not at 200 ms');
    assert.equal((await pending).status, 'UP');
  });

  it('bounds a whole evaluation by the overall deadline', async () => {
    const clock = new FakeClock();
    const { def } = slow(clock, 'db', 500, { timeoutMs: 1000 });
    const registry = createHealthRegistry([def], { clock, deadlineMs: 200 });
    const answered: Array<Awaited<ReturnType<typeof registry.evaluate>>> = [];
    void registry.evaluate('health').then((r) => answered.push(r));
    await clock.advance(199);
    assert.equal(answered.length, 0);
    await clock.advance(1);
    assert.equal(answered.length, 1, 'the answer came at the deadline');
    assert.equal(answered[0]!.checks[0]!.status, 'UNKNOWN');
  });

  it('evaluates only the checks of the asked view, minus excluded ones', async () => {
    const live = controllable('loop', { views: ['live', 'health'] });
    const db = controllable('db', { views: ['ready', 'health'] });
    db.control.ok = false;
    const registry = createHealthRegistry([live.def, db.def], { clock: new FakeClock() });
    assert.equal((await registry.evaluate('live')).status, 'UP');
    assert.deepEqual((await registry.evaluate('live')).checks.map((c) => c.name), ['loop']);
    assert.equal((await registry.evaluate('health')).status, 'DOWN');
    const excluded = await registry.evaluate('health', { exclude: ['db'] });
    assert.equal(excluded.status, 'UP');
    assert.deepEqual(excluded.checks.map((c) => c.name), ['loop']);
    assert.equal(db.control.runs, 1, 'an excluded check is not run');
  });

  it('answers one check alone, and undefined for an unknown name', async () => {
    const { def } = controllable('db');
    const registry = createHealthRegistry([def], { clock: new FakeClock() });
    assert.equal((await registry.evaluateCheck('db'))?.status, 'UP');
    assert.equal(await registry.evaluateCheck('nope'), undefined);
    assert.deepEqual(registry.checkNames(), ['db']);
  });

  it('makes a non-critical failure a warning', async () => {
    const cache = controllable('cache', { critical: false });
    const db = controllable('db');
    cache.control.ok = false;
    const registry = createHealthRegistry([cache.def, db.def], { clock: new FakeClock() });
    const report = await registry.evaluate('health');
    assert.equal(report.status, 'WARN');
    assert.equal(report.checks.find((c) => c.name === 'cache')!.critical, false);
  });

  describe('transitions', () => {
    it('notifies listeners once per change, with the cause and how long the old status lasted', async () => {
      const clock = new FakeClock();
      const { def, control } = controllable('db');
      const registry = createHealthRegistry([def], { clock });
      const seen: Transition[] = [];
      registry.onTransition((t) => seen.push(t));
      await registry.evaluate('health');
      await clock.advance(5000);
      control.ok = false;
      control.cause = 'gone';
      await registry.evaluate('health');
      await registry.evaluate('health');
      await registry.evaluate('health');
      assert.deepEqual(
        seen.map((t) => [t.from, t.to, t.cause]),
        [
          ['UNKNOWN', 'UP', undefined],
          ['UP', 'DOWN', 'gone'],
        ],
      );
      assert.equal(seen[1]!.previousLastedMs, 5000);
      assert.equal(seen[1]!.check, 'db');
    });

    it('stops notifying after unsubscribe, and survives a throwing listener', async () => {
      const { def, control } = controllable('db');
      const registry = createHealthRegistry([def], { clock: new FakeClock() });
      let calls = 0;
      registry.onTransition(() => {
        throw new Error('listener bug');
      });
      const unsubscribe = registry.onTransition(() => calls++);
      await registry.evaluate('health');
      unsubscribe();
      control.ok = false;
      const report = await registry.evaluate('health');
      assert.equal(calls, 1);
      assert.equal(report.status, 'DOWN');
    });

    it('keeps a bounded history, oldest first', async () => {
      const { def, control } = controllable('db');
      const registry = createHealthRegistry([def], { clock: new FakeClock(), historySize: 3 });
      for (let i = 0; i < 6; i++) {
        control.ok = i % 2 === 1;
        await registry.evaluate('health');
      }
      const history = registry.history();
      assert.equal(history.length, 3);
      assert.deepEqual(
        history.map((t) => t.to),
        ['UP', 'DOWN', 'UP'],
      );
    });
  });

  describe('flap damping', () => {
    it('turns DOWN only after failureThreshold consecutive failures', async () => {
      const { def, control } = controllable('db', { failureThreshold: 3 });
      const registry = createHealthRegistry([def], { clock: new FakeClock() });
      await registry.evaluate('health');
      control.ok = false;
      assert.equal((await registry.evaluate('health')).status, 'UP');
      assert.equal((await registry.evaluate('health')).status, 'UP');
      assert.equal((await registry.evaluate('health')).status, 'DOWN');
    });

    it('restarts the failure count after a success', async () => {
      const { def, control } = controllable('db', { failureThreshold: 2 });
      const registry = createHealthRegistry([def], { clock: new FakeClock() });
      await registry.evaluate('health');
      for (const ok of [false, true, false, true, false]) {
        control.ok = ok;
        assert.equal((await registry.evaluate('health')).status, 'UP');
      }
    });

    it('turns DOWN after failureGraceMs in error, even below the count', async () => {
      const clock = new FakeClock();
      const { def, control } = controllable('db', { failureThreshold: 100, failureGraceMs: 3000 });
      const registry = createHealthRegistry([def], { clock });
      await registry.evaluate('health');
      control.ok = false;
      assert.equal((await registry.evaluate('health')).status, 'UP');
      await clock.advance(2999);
      assert.equal((await registry.evaluate('health')).status, 'UP');
      await clock.advance(1);
      assert.equal((await registry.evaluate('health')).status, 'DOWN');
    });

    it('turns back UP only after successThreshold consecutive successes', async () => {
      const { def, control } = controllable('db', { successThreshold: 3 });
      const registry = createHealthRegistry([def], { clock: new FakeClock() });
      control.ok = false;
      assert.equal((await registry.evaluate('health')).status, 'DOWN');
      control.ok = true;
      assert.equal((await registry.evaluate('health')).status, 'DOWN');
      assert.equal((await registry.evaluate('health')).status, 'DOWN');
      assert.equal((await registry.evaluate('health')).status, 'UP');
    });

    it('takes the first result at once, with no good state to protect', async () => {
      const { def, control } = controllable('db', { failureThreshold: 5, successThreshold: 5 });
      control.ok = false;
      const registry = createHealthRegistry([def], { clock: new FakeClock() });
      assert.equal((await registry.evaluate('health')).status, 'DOWN');
    });
  });

  describe('staleness', () => {
    it('counts a background result older than maxAgeMs as UNKNOWN, failing the view', async () => {
      const clock = new FakeClock();
      const { def } = controllable('db', { refresh: { mode: 'background', intervalMs: 1000 }, maxAgeMs: 2500 });
      const registry = createHealthRegistry([def], { clock });
      await registry.start();
      registry.stop(); // the background loop stops, as a wedged timer would
      await clock.advance(2500);
      assert.equal((await registry.evaluate('health')).status, 'UP');
      await clock.advance(1);
      const report = await registry.evaluate('health');
      assert.equal(report.status, 'DOWN');
      assert.equal(report.checks[0]!.status, 'UNKNOWN');
      assert.match(report.checks[0]!.cause!, /^stale: the last result is 2501 ms old \(at most 2500 ms\)$/);
    });

    it('defaults maxAgeMs of a background check to three intervals plus the timeout', async () => {
      const clock = new FakeClock();
      const { def } = controllable('db', { refresh: { mode: 'background', intervalMs: 1000 }, timeoutMs: 100 });
      const registry = createHealthRegistry([def], { clock });
      await registry.start();
      registry.stop();
      await clock.advance(3100);
      assert.equal((await registry.evaluate('health')).status, 'UP');
      await clock.advance(1);
      assert.equal((await registry.evaluate('health')).status, 'DOWN');
    });

    it('stays fresh while the background loop runs', async () => {
      const clock = new FakeClock();
      const { def } = controllable('db', { refresh: { mode: 'background', intervalMs: 1000 } });
      const registry = createHealthRegistry([def], { clock });
      await registry.start();
      await clock.advance(60_000);
      assert.equal((await registry.evaluate('health')).status, 'UP');
      registry.stop();
    });
  });

  it('refuses invalid definitions with a message naming the check', () => {
    const { def } = controllable('db');
    assert.throws(() => createHealthRegistry([def, def]), /"db" is registered twice/);
    assert.throws(() => createHealthRegistry([{ ...def, timeoutMs: 0 }]), /"db": timeoutMs must be/);
    assert.throws(() => createHealthRegistry([{ ...def, name: 'bad name' }]), /must be letters/);
    assert.throws(() => createHealthRegistry([{ ...def, views: [] }]), /belongs to no view/);
    assert.throws(() => createHealthRegistry([{ ...def, failureThreshold: 0 }]), /failureThreshold/);
  });
});
