// NODE_ENV is production, development or test and nothing else (never silently lax); the metrics
// port listens on loopback unless METRICS_HOST says otherwise, and METRICS_HOST is refused where it
// would be ignored.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config.js';
import { configProblems } from '../helpers/config-problems.js';

describe('NODE_ENV', () => {
  it('is production, development or test, or unset', () => {
    assert.equal(loadConfig({ NODE_ENV: 'production' }).production, true);
    assert.equal(loadConfig({ NODE_ENV: ' production\n' }).production, true);
    for (const value of ['development', 'test', '', '  ']) {
      assert.equal(loadConfig({ NODE_ENV: value }).production, false, JSON.stringify(value));
    }
    assert.equal(loadConfig({}).production, false);
  });

  it('refuses any other value, production in another case too, naming what it accepts', () => {
    for (const value of ['Production', 'PRODUCTION', 'prod', 'staging', 'dev']) {
      const problems = configProblems({ NODE_ENV: value });
      assert.equal(problems.length, 1, `NODE_ENV=${value}: ${JSON.stringify(problems)}`);
      assert.ok(
        problems[0]!.startsWith(`NODE_ENV must be production, development or test, or unset (got "${value}")`),
        problems[0],
      );
    }
    assert.match(configProblems({ NODE_ENV: 'Production' })[0]!, /case-sensitive: did you mean production\?$/);
  });
});

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
