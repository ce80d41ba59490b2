// The start-up check that the shutdown sequence fits in the orchestrator's grace period.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, shutdownBudgetWarning } from '../../src/config.js';

describe('shutdown budget', () => {
  it('is quiet when drain delay + timeout fit in the grace period, to the millisecond', () => {
    assert.equal(shutdownBudgetWarning({ drainDelayMs: 3000, timeoutMs: 5000, gracePeriodMs: 8000 }), undefined);
  });

  it('warns with every number when they do not fit', () => {
    assert.equal(
      shutdownBudgetWarning({ drainDelayMs: 3000, timeoutMs: 5001, gracePeriodMs: 8000 }),
      'shutdown may be cut short: SHUTDOWN_DRAIN_DELAY_MS 3000 ms + SHUTDOWN_TIMEOUT_MS 5001 ms = 8001 ms, ' +
        'more than SHUTDOWN_GRACE_PERIOD_MS 8000 ms (the stop grace period the orchestrator gives before SIGKILL); ' +
        'lower the first two or raise the grace period',
    );
  });

  it("fits with the defaults, which match Docker's 10 s stop timeout", () => {
    const { shutdown } = loadConfig({});
    assert.equal(shutdown.gracePeriodMs, 10_000);
    assert.equal(shutdownBudgetWarning(shutdown), undefined);
  });

  it('reads SHUTDOWN_GRACE_PERIOD_MS and refuses nonsense', () => {
    assert.equal(loadConfig({ SHUTDOWN_GRACE_PERIOD_MS: '30000' }).shutdown.gracePeriodMs, 30_000);
    assert.throws(
      () => loadConfig({ SHUTDOWN_GRACE_PERIOD_MS: '30s' }),
      /SHUTDOWN_GRACE_PERIOD_MS must be a whole number/,
    );
  });
});
