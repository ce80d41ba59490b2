// Where the metrics port listens: loopback unless METRICS_HOST says otherwise, and METRICS_HOST
// refused where it would be ignored.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config.js';
import { configProblems } from '../helpers/config-problems.js';

describe('the metrics listener', () => {
  it('binds loopback unless METRICS_HOST says otherwise, whatever HOST is', () => {
    const production = loadConfig({ NODE_ENV: 'production', HOST: '0.0.0.0' });
    assert.equal(production.metrics.port, 9100);
    assert.equal(production.metrics.host, '127.0.0.1');
    assert.equal(loadConfig({ NODE_ENV: 'production', METRICS_HOST: '0.0.0.0' }).metrics.host, '0.0.0.0');
  });

  it('refuses METRICS_HOST where /metrics is served on PORT: it would be ignored', () => {
    for (const env of [
      { METRICS_HOST: '0.0.0.0' },
      { NODE_ENV: 'production', METRICS_PORT: 'service', METRICS_HOST: '::' },
    ]) {
      const problems = configProblems(env);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.match(problems[0]!, /^METRICS_HOST is set but \/metrics is served on PORT/);
    }
    // With METRICS=off nothing listens for metrics anywhere: nothing to mislead.
    assert.deepEqual(configProblems({ METRICS: 'off', METRICS_HOST: '0.0.0.0' }), []);
  });
});
