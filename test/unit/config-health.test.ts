// Health settings added with the second health step: per-check damping of the database and the watch limits.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config.js';
import { createServiceChecks, type EventLoopMonitor } from '../../src/health/checks.js';
import { createLifecycle } from '../../src/lifecycle.js';

const idleLoop: EventLoopMonitor = { takeMaxDelayMs: () => 0, stop: () => {} };

describe('health damping and watch settings', () => {
  it('defaults to reacting at once, as the article does', () => {
    const { health, watch } = loadConfig({});
    assert.deepEqual(health.database, { failureThreshold: 1, successThreshold: 1, failureGraceMs: undefined });
    assert.deepEqual(watch, { maxSubscribers: 16, heartbeatMs: 15_000 });
  });

  it('reads the database damping and hands it to the database check only', () => {
    const { health } = loadConfig({
      HEALTH_DB_FAILURE_THRESHOLD: '3',
      HEALTH_DB_SUCCESS_THRESHOLD: '2',
      HEALTH_DB_FAILURE_GRACE_MS: '5000',
    });
    assert.deepEqual(health.database, { failureThreshold: 3, successThreshold: 2, failureGraceMs: 5000 });
    const checks = createServiceChecks({
      store: { check: async () => {} },
      lifecycle: createLifecycle(),
      testability: undefined,
      eventLoop: idleLoop,
      checkIntervalMs: 1000,
      checkTimeoutMs: 500,
      eventLoopDelayLimitMs: 1000,
      database: { failureThreshold: 3, successThreshold: 2, failureGraceMs: 5000 },
    });
    const database = checks.find((check) => check.name === 'database')!;
    assert.equal(database.failureThreshold, 3);
    assert.equal(database.successThreshold, 2);
    assert.equal(database.failureGraceMs, 5000);
    assert.ok(checks.filter((check) => check.name !== 'database').every((check) => check.failureThreshold === undefined));
  });

  it('refuses values out of range, naming the variable', () => {
    assert.throws(() => loadConfig({ HEALTH_DB_FAILURE_THRESHOLD: '0' }), /HEALTH_DB_FAILURE_THRESHOLD must be a whole number from 1 to 1000 \(got "0"\)/);
    assert.throws(() => loadConfig({ HEALTH_DB_FAILURE_GRACE_MS: '-1' }), /HEALTH_DB_FAILURE_GRACE_MS must be a whole number from 0/);
    assert.throws(() => loadConfig({ HEALTH_WATCH_HEARTBEAT_MS: '10' }), /HEALTH_WATCH_HEARTBEAT_MS must be a whole number from 100 to 60000/);
    assert.throws(() => loadConfig({ HEALTH_WATCH_HEARTBEAT_MS: '70000' }), /HEALTH_WATCH_HEARTBEAT_MS/, 'a heartbeat must beat the idle-socket timeout');
    assert.throws(() => loadConfig({ HEALTH_WATCH_MAX_SUBSCRIBERS: 'many' }), /HEALTH_WATCH_MAX_SUBSCRIBERS/);
  });
});
