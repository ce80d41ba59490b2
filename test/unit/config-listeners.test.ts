// The settings of what the service opens and how it decides production: NODE_ENV is production,
// development or test and nothing else (never silently lax), HOST and METRICS_HOST are addresses
// or host names (checked for syntax here; resolved and tried in listen-addresses), the metrics
// port on loopback unless METRICS_HOST says otherwise, and control characters in a value never
// split the error line that quotes it.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config.js';
import { oneLine } from '../../src/shared/one-line.js';
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

describe('HOST and METRICS_HOST', () => {
  it('take IPv4 and IPv6 addresses and host names', () => {
    for (const host of [
      '0.0.0.0',
      '127.0.0.1',
      '::',
      '::1',
      'fe80::1',
      'localhost',
      'accountservice-1',
      'db.example.org',
    ]) {
      assert.equal(loadConfig({ HOST: host }).host, host);
      assert.equal(loadConfig({ METRICS_PORT: '9100', METRICS_HOST: host }).metrics.host, host);
    }
  });

  it('refuse a scheme, a port, brackets, spaces or control characters, saying what they take', () => {
    const bad = [
      'http://0.0.0.0',
      '0.0.0.0:6767',
      '[::]',
      'my host',
      'abc\ninvalid',
      '-leading.hyphen',
      'a..b',
      'x'.repeat(254),
    ];
    for (const host of bad) {
      const problems = configProblems({ HOST: host });
      assert.equal(problems.length, 1, `HOST=${JSON.stringify(host)}: ${JSON.stringify(problems)}`);
      assert.match(
        problems[0]!,
        /^HOST must be an IP address or a host name, without scheme or port \(such as 0\.0\.0\.0, 127\.0\.0\.1 or ::\)/,
      );
      const metrics = configProblems({ METRICS_PORT: '9100', METRICS_HOST: host });
      assert.match(metrics[0] ?? '', /^METRICS_HOST must be an IP address or a host name/, JSON.stringify(host));
    }
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

describe('one line per problem', () => {
  it('a control character, DEL, C1 or a line separator in a value is escaped where the value is quoted', () => {
    for (const value of [
      '8080\n8081',
      'a\rb',
      'tab\there',
      'nul\u0000',
      'del\u007f',
      'c1\u0085',
      'ls\u2028ps\u2029',
      'esc\u001b[31m',
    ]) {
      const problem = configProblems({ PORT: value })[0] ?? '';
      assert.ok(problem.startsWith('PORT must be a whole number'), `${JSON.stringify(value)}: ${problem}`);
      assert.doesNotMatch(
        problem,
        // eslint-disable-next-line no-control-regex -- finding control characters is the point
        /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/,
        `unescaped in ${JSON.stringify(problem)}`,
      );
    }
  });

  it('oneLine escapes the same characters in any text (an error message written to stderr)', () => {
    assert.equal(oneLine('getaddrinfo ENOTFOUND abc\ninvalid'), 'getaddrinfo ENOTFOUND abc\\ninvalid');
    assert.equal(oneLine('a\u2028b\u0085c\u007fd\te'), 'a\\u2028b\\u0085c\\u007fd\\te');
    assert.equal(oneLine('plain text, "quoted" and ünïcödé'), 'plain text, "quoted" and ünïcödé');
  });
});
