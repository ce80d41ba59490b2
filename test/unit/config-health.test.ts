// Health settings: per-check damping of the database, the replacement delay of /health, and the watch limits.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config.js';
import { createServiceHealth } from '../../src/health/service-health.js';
import { createLifecycle } from '../../src/shared/lifecycle.js';
import { FakeClock } from '../../packages/health-views/test/helpers/fake-clock.js';

/** The service's health on config, started on a fake clock, with a database check that fails from failFromNowOn(). */
async function startedHealth(config: ReturnType<typeof loadConfig>) {
  let failing = false;
  const clock = new FakeClock();
  const lifecycle = createLifecycle();
  lifecycle.markServing();
  const health = createServiceHealth({
    store: {
      check: async () => {
        if (failing) throw new Error('EIO');
      },
    },
    lifecycle,
    testability: undefined,
    health: config.health,
    watch: config.watch,
    clock,
  });
  await health.start();
  return { health, clock, failFromNowOn: () => (failing = true) };
}

describe('health damping and watch settings', () => {
  it('defaults to reacting at once, as the article does', () => {
    const { health, watch } = loadConfig({});
    assert.deepEqual(health.database, { failureThreshold: undefined, successThreshold: 1, failureGraceMs: undefined });
    assert.equal(health.replaceAfterMs, 0);
    assert.deepEqual(watch, { maxSubscribers: 16, heartbeatMs: 15_000 });
  });

  it('reads the database damping and hands it to the database check: DOWN after the third failure', async () => {
    const config = loadConfig({
      HEALTH_DB_FAILURE_THRESHOLD: '3',
      HEALTH_DB_SUCCESS_THRESHOLD: '2',
      HEALTH_DB_FAILURE_GRACE_MS: '5000',
    });
    assert.deepEqual(config.health.database, { failureThreshold: 3, successThreshold: 2, failureGraceMs: 5000 });
    const { health, clock, failFromNowOn } = await startedHealth(config);
    assert.equal(health.check('database')!.status, 'UP');
    failFromNowOn();
    for (let failures = 1; failures <= 3; failures++) {
      await clock.advance(config.health.checkIntervalMs);
      assert.equal(health.check('database')!.status, failures < 3 ? 'UP' : 'DOWN', `after ${failures} failures`);
    }
    health.close();
  });

  it('HEALTH_DB_FAILURE_GRACE_MS alone: time decides, not the first failure', async () => {
    const config = loadConfig({ HEALTH_DB_FAILURE_GRACE_MS: '5000' });
    const { health, clock, failFromNowOn } = await startedHealth(config);
    failFromNowOn();
    const interval = config.health.checkIntervalMs;
    // Failing from the first run after this: DOWN once 5000 ms have passed since that run, not before.
    for (let elapsed = interval; elapsed <= 5000 + interval; elapsed += interval) {
      await clock.advance(interval);
      const expected = elapsed - interval >= 5000 ? 'DOWN' : 'UP';
      assert.equal(health.check('database')!.status, expected, `${elapsed - interval} ms after the first failure`);
    }
    health.close();
  });

  it('HEALTH_WATCH_MAX_SUBSCRIBERS=0: no watch route at all, the other routes as before', async () => {
    const { health } = await startedHealth(loadConfig({ HEALTH_WATCH_MAX_SUBSCRIBERS: '0' }));
    assert.equal(health.answer({ method: 'GET', url: '/health/watch', headers: {} }), undefined, 'not a route');
    assert.equal(health.answer({ method: 'GET', url: '/health', headers: {} })?.statusCode, 200);
    health.close();
  });

  it('refuses values out of range, naming the variable', () => {
    assert.throws(
      () => loadConfig({ HEALTH_DB_FAILURE_THRESHOLD: '0' }),
      /HEALTH_DB_FAILURE_THRESHOLD must be a whole number from 1 to 1000 \(got "0"\)/,
    );
    assert.throws(
      () => loadConfig({ HEALTH_DB_FAILURE_GRACE_MS: '-1' }),
      /HEALTH_DB_FAILURE_GRACE_MS must be a whole number from 0/,
    );
    assert.throws(
      () => loadConfig({ HEALTH_WATCH_HEARTBEAT_MS: '10' }),
      /HEALTH_WATCH_HEARTBEAT_MS must be a whole number from 100 to 60000/,
    );
    assert.throws(
      () => loadConfig({ HEALTH_WATCH_HEARTBEAT_MS: '70000' }),
      /HEALTH_WATCH_HEARTBEAT_MS/,
      'a heartbeat must beat the idle-socket timeout',
    );
    assert.throws(() => loadConfig({ HEALTH_WATCH_MAX_SUBSCRIBERS: 'many' }), /HEALTH_WATCH_MAX_SUBSCRIBERS/);
  });
});
