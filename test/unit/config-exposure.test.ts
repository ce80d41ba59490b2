// Where health details can be seen: /metrics off the service port in production, and the
// setting that lets /health (the replacement probe) wait before it turns DOWN for the database.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, PRODUCTION_METRICS_PORT } from '../../src/config.js';
import { configProblems } from '../helpers/config-problems.js';

describe('METRICS_PORT', () => {
  it('defaults to the service port, and to a port of its own in production', () => {
    assert.equal(loadConfig({}).metrics.port, undefined);
    assert.equal(PRODUCTION_METRICS_PORT, 9100);
    assert.equal(loadConfig({ NODE_ENV: 'production' }).metrics.port, 9100);
  });

  it('"service" serves /metrics on PORT, in production too; a number, on that port', () => {
    assert.equal(loadConfig({ NODE_ENV: 'production', METRICS_PORT: 'service' }).metrics.port, undefined);
    assert.equal(loadConfig({ METRICS_PORT: '9300' }).metrics.port, 9300);
    assert.equal(loadConfig({ NODE_ENV: 'production', METRICS_PORT: '0' }).metrics.port, 0);
  });

  it('refuses anything else, and the same port as PORT, saying what it accepts', () => {
    assert.deepEqual(configProblems({ METRICS_PORT: 'metrics' }), [
      'METRICS_PORT must be a whole number from 0 to 65535 or "service" (serve /metrics on PORT) (got "metrics")',
    ]);
    assert.match(
      configProblems({ NODE_ENV: 'production', PORT: '9100' })[0]!,
      /^METRICS_PORT must differ from PORT \(both are 9100\); set METRICS_PORT=service/,
    );
  });
});

describe('HEALTH_REPLACE_AFTER_MS', () => {
  it('defaults to 0 (the article: /health reacts at once) and takes 0 to an hour', () => {
    assert.equal(loadConfig({}).health.replaceAfterMs, 0);
    assert.equal(loadConfig({ HEALTH_REPLACE_AFTER_MS: '30000' }).health.replaceAfterMs, 30_000);
    assert.match(
      configProblems({ HEALTH_REPLACE_AFTER_MS: '-5' })[0]!,
      /^HEALTH_REPLACE_AFTER_MS must be a whole number from 0 to 3600000/,
    );
  });
});
