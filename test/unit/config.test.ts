// loadConfig(env): defaults, every rejected value (each naming the variable and what it accepts),
// the production rules, several problems reported at once, and no reading of process.env.

import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ConfigError, TESTABILITY_PRODUCTION_OVERRIDE, loadConfig, type Env } from '../../src/config.js';

/** The problems loadConfig reports for env; fails the test when it accepts env. */
function problemsOf(env: Env): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    assert.equal(error.message, error.problems.join('; '));
    return error.problems;
  }
  assert.fail(`loadConfig accepted ${JSON.stringify(env)}`);
}

/** Asserts env is refused with exactly one problem, naming name and quoting the value given. */
function assertRefused(env: Env, name: string, accepts: RegExp): string {
  const problems = problemsOf(env);
  assert.equal(problems.length, 1, `one problem expected: ${JSON.stringify(problems)}`);
  const problem = problems[0]!;
  assert.ok(problem.startsWith(`${name} must `), problem);
  assert.match(problem, accepts);
  const given = env[name];
  if (given !== undefined) assert.ok(problem.includes(`(got ${JSON.stringify(given.trim())})`), problem);
  return problem;
}

const TOKEN = 'a-secret-of-sixteen+';

describe('loadConfig defaults', () => {
  test('an empty environment gives the documented defaults', () => {
    const config = loadConfig({});
    assert.equal(config.port, 6767);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.dbPath, 'data/accounts.mdb');
    assert.equal(config.seedAccounts, 100);
    assert.equal(config.log.bufferBytes, 4 * 1024 * 1024);
    assert.equal(config.http.maxQueuedResponses, 32);
    assert.equal(config.http.maxQueuedBytes, 128 * 1024);
    assert.equal(config.http.maxConnections, 1024);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.logPretty, false);
    assert.equal(config.production, false);
    assert.equal(config.health.details, 'always');
    assert.equal(config.health.token, undefined);
    assert.equal(config.health.checkIntervalMs, 1000);
    assert.equal(config.health.checkTimeoutMs, 500);
    assert.equal(config.health.eventLoopDelayLimitMs, 1000);
    assert.equal(config.testability.enabled, false);
    assert.equal(config.shutdown.drainDelayMs, 3000);
  });

  test('an empty or whitespace-only value means the default', () => {
    for (const blank of ['', '   ', '\t\n']) {
      const config = loadConfig({
        PORT: blank,
        HOST: blank,
        DB_PATH: blank,
        SEED_ACCOUNTS: blank,
        LOG_LEVEL: blank,
        LOG_PRETTY: blank,
        NODE_ENV: blank,
        HEALTH_DETAILS: blank,
        HEALTH_TOKEN: blank,
        TESTABILITY_ENABLED: blank,
        [TESTABILITY_PRODUCTION_OVERRIDE]: blank,
        HEALTH_CHECK_INTERVAL_MS: blank,
        HEALTH_CHECK_TIMEOUT_MS: blank,
        HEALTH_EVENT_LOOP_LIMIT_MS: blank,
        SHUTDOWN_DRAIN_DELAY_MS: blank,
        SHUTDOWN_TIMEOUT_MS: blank,
      });
      assert.deepEqual(config, loadConfig({}), JSON.stringify(blank));
    }
  });

  test('surrounding whitespace is ignored in values that are given', () => {
    const config = loadConfig({ PORT: ' 8080 ', HOST: ' 127.0.0.1 ', LOG_LEVEL: ' debug\n', LOG_PRETTY: ' TRUE ' });
    assert.equal(config.port, 8080);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.logPretty, true);
  });

  test('valid values are read into the config', () => {
    const config = loadConfig({
      PORT: '0',
      HOST: '::',
      DB_PATH: '/data/accounts.mdb',
      SEED_ACCOUNTS: '0',
      LOG_LEVEL: 'silent',
      HEALTH_DETAILS: 'token',
      HEALTH_TOKEN: TOKEN,
      HEALTH_CHECK_INTERVAL_MS: '10',
      HEALTH_CHECK_TIMEOUT_MS: '60000',
      HEALTH_EVENT_LOOP_LIMIT_MS: '250',
      SHUTDOWN_DRAIN_DELAY_MS: '0',
      SHUTDOWN_TIMEOUT_MS: '600000',
      TESTABILITY_ENABLED: 'yes',
    });
    assert.equal(config.port, 0);
    assert.equal(config.host, '::');
    assert.equal(config.dbPath, '/data/accounts.mdb');
    assert.equal(config.seedAccounts, 0);
    assert.equal(config.logLevel, 'silent');
    assert.equal(config.health.details, 'token');
    assert.equal(config.health.token, TOKEN);
    assert.equal(config.health.checkIntervalMs, 10);
    assert.equal(config.health.checkTimeoutMs, 60_000);
    assert.equal(config.health.eventLoopDelayLimitMs, 250);
    assert.equal(config.shutdown.drainDelayMs, 0);
    assert.equal(config.shutdown.timeoutMs, 600_000);
    assert.equal(config.testability.enabled, true);
  });

  test('booleans accept true/false, 1/0, yes/no, on/off in any case', () => {
    for (const word of ['true', '1', 'yes', 'on', 'TRUE', 'Yes', 'ON']) {
      assert.equal(loadConfig({ LOG_PRETTY: word }).logPretty, true, word);
    }
    for (const word of ['false', '0', 'no', 'off', 'FALSE', 'No', 'OFF']) {
      assert.equal(loadConfig({ LOG_PRETTY: word }).logPretty, false, word);
    }
  });
});

describe('loadConfig refuses invalid values, naming the variable', () => {
  const integers: ReadonlyArray<readonly [name: string, min: number, max: number]> = [
    ['PORT', 0, 65535],
    ['SEED_ACCOUNTS', 0, 1_000_000],
    ['HEALTH_CHECK_INTERVAL_MS', 10, 3_600_000],
    ['HEALTH_CHECK_TIMEOUT_MS', 1, 60_000],
    ['HEALTH_EVENT_LOOP_LIMIT_MS', 10, 60_000],
    ['SHUTDOWN_DRAIN_DELAY_MS', 0, 600_000],
    ['SHUTDOWN_TIMEOUT_MS', 1, 600_000],
    ['LOG_BUFFER_BYTES', 65_536, 268_435_456],
    ['HTTP_MAX_QUEUED_RESPONSES', 1, 10_000],
    ['HTTP_MAX_QUEUED_BYTES', 16_384, 1_073_741_824],
    ['HTTP_MAX_CONNECTIONS', 1, 1_000_000],
  ];
  for (const [name, min, max] of integers) {
    test(`${name} must be a whole number from ${min} to ${max}`, () => {
      const accepts = new RegExp(`must be a whole number from ${min} to ${max} `);
      const bad = [
        'abc',
        '12abc',
        '-1',
        '1.5',
        '1e3',
        '0x10',
        '+5',
        '1 000',
        String(max + 1),
        '99999999999999999999',
        ...(min > 0 ? [String(min - 1)] : []),
      ];
      for (const value of bad) assertRefused({ [name]: value }, name, accepts);
      // The bounds themselves are accepted.
      for (const value of [min, max])
        assert.doesNotThrow(() => loadConfig({ [name]: String(value) }), `${name}=${value}`);
    });
  }

  test('PORT=70000 and PORT=abc are refused with the value quoted', () => {
    assert.equal(
      assertRefused({ PORT: '70000' }, 'PORT', /0 to 65535/),
      'PORT must be a whole number from 0 to 65535 (got "70000")',
    );
    assert.equal(
      assertRefused({ PORT: 'abc' }, 'PORT', /0 to 65535/),
      'PORT must be a whole number from 0 to 65535 (got "abc")',
    );
  });

  test('LOG_LEVEL must be one of the pino levels', () => {
    for (const value of ['loud', 'verbose', 'warning', '30']) {
      const problem = assertRefused(
        { LOG_LEVEL: value },
        'LOG_LEVEL',
        /fatal, error, warn, info, debug, trace, silent/,
      );
      assert.ok(problem.includes(`(got "${value}")`));
    }
  });

  test('DB_ON_DAMAGE is fail by default, accepts rebuild, and refuses anything else', () => {
    assert.equal(loadConfig({}).dbOnDamage, 'fail');
    assert.equal(loadConfig({ DB_ON_DAMAGE: 'rebuild' }).dbOnDamage, 'rebuild');
    assertRefused({ DB_ON_DAMAGE: 'repair' }, 'DB_ON_DAMAGE', /one of fail, rebuild \(got "repair"\)/);
  });

  test('HEALTH_DETAILS must be never, always or token', () => {
    assertRefused({ HEALTH_DETAILS: 'sometimes' }, 'HEALTH_DETAILS', /one of never, always, token/);
  });

  for (const name of ['LOG_PRETTY', 'TESTABILITY_ENABLED', TESTABILITY_PRODUCTION_OVERRIDE]) {
    test(`${name} must be true or false`, () => {
      for (const value of ['maybe', '2', 'y', 'enabled'])
        assertRefused({ [name]: value }, name, /must be true or false/);
    });
  }

  test('HEALTH_DETAILS=token needs a HEALTH_TOKEN of at least 16 characters, and never echoes it', () => {
    const missing = problemsOf({ HEALTH_DETAILS: 'token' });
    assert.equal(missing.length, 1);
    assert.match(
      missing[0]!,
      /^HEALTH_TOKEN must be set to a secret of at least 16 characters when HEALTH_DETAILS=token/,
    );

    const short = 'fifteen-chars!!';
    assert.equal(short.length, 15);
    const problems = problemsOf({ HEALTH_DETAILS: 'token', HEALTH_TOKEN: short });
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^HEALTH_TOKEN must be set to a secret of at least 16 characters/);
    assert.ok(!problems[0]!.includes(short), 'the secret must not appear in the message');

    assert.equal(loadConfig({ HEALTH_DETAILS: 'token', HEALTH_TOKEN: short + 'x' }).health.token, short + 'x');
  });

  test('a HEALTH_TOKEN with HEALTH_DETAILS other than token is refused, saying why, without the secret', () => {
    for (const [env, mode] of [
      [{ HEALTH_TOKEN: TOKEN }, 'always \\(its default here\\)'],
      [{ HEALTH_TOKEN: TOKEN, HEALTH_DETAILS: 'always' }, 'always'],
      [{ HEALTH_TOKEN: TOKEN, HEALTH_DETAILS: 'never' }, 'never'],
      [{ HEALTH_TOKEN: TOKEN, NODE_ENV: 'production' }, 'never \\(its default here\\)'],
    ] as const) {
      const problems = problemsOf(env);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.match(
        problems[0]!,
        new RegExp(`^HEALTH_TOKEN is set but HEALTH_DETAILS is ${mode}, so the token would be ignored`),
      );
      assert.match(problems[0]!, /set HEALTH_DETAILS=token .* or unset HEALTH_TOKEN$/);
      assert.ok(!problems[0]!.includes(TOKEN), 'the secret must not appear in the message');
    }
  });
});

describe('loadConfig in production', () => {
  test('NODE_ENV=production hides health details by default, and they can still be asked for', () => {
    const config = loadConfig({ NODE_ENV: 'production' });
    assert.equal(config.production, true);
    assert.equal(config.health.details, 'never');
    assert.equal(loadConfig({ NODE_ENV: 'production', HEALTH_DETAILS: 'always' }).health.details, 'always');
    assert.equal(loadConfig({ NODE_ENV: 'development' }).health.details, 'always');
  });

  test('TESTABILITY_ENABLED=true is refused in production, naming the override', () => {
    const problems = problemsOf({ NODE_ENV: 'production', TESTABILITY_ENABLED: 'true' });
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^TESTABILITY_ENABLED=true is refused with NODE_ENV=production/);
    assert.ok(problems[0]!.includes(`${TESTABILITY_PRODUCTION_OVERRIDE}=true`), problems[0]);
  });

  test('the override allows it only when it is exactly true', () => {
    const base = { NODE_ENV: 'production', TESTABILITY_ENABLED: 'true' };
    assert.equal(loadConfig({ ...base, [TESTABILITY_PRODUCTION_OVERRIDE]: 'true' }).testability.enabled, true);
    assert.equal(problemsOf({ ...base, [TESTABILITY_PRODUCTION_OVERRIDE]: 'false' }).length, 1);
    // An override that is not a boolean is its own problem, on top of the refusal.
    const problems = problemsOf({ ...base, [TESTABILITY_PRODUCTION_OVERRIDE]: 'sure' });
    assert.equal(problems.length, 2, JSON.stringify(problems));
    assert.ok(problems.some((p) => p.startsWith(`${TESTABILITY_PRODUCTION_OVERRIDE} must be true or false`)));
    assert.ok(problems.some((p) => p.startsWith('TESTABILITY_ENABLED=true is refused')));
  });

  test('outside production TESTABILITY_ENABLED=true needs no override', () => {
    assert.equal(loadConfig({ TESTABILITY_ENABLED: 'true' }).testability.enabled, true);
    assert.equal(loadConfig({ NODE_ENV: 'production', TESTABILITY_ENABLED: 'false' }).testability.enabled, false);
  });
});

describe('loadConfig reports and reads', () => {
  test('reports every problem at once, one per variable, in one ConfigError', () => {
    const problems = problemsOf({
      PORT: 'abc',
      SEED_ACCOUNTS: '-1',
      LOG_LEVEL: 'loud',
      TESTABILITY_ENABLED: 'maybe',
      HEALTH_DETAILS: 'token',
      SHUTDOWN_TIMEOUT_MS: '0',
    });
    const names = problems.map((p) => p.split(' ')[0]);
    assert.deepEqual([...names].sort(), [
      'HEALTH_TOKEN',
      'LOG_LEVEL',
      'PORT',
      'SEED_ACCOUNTS',
      'SHUTDOWN_TIMEOUT_MS',
      'TESTABILITY_ENABLED',
    ]);
  });

  test('never reads process.env: only the object it is given', () => {
    const saved = {
      PORT: process.env.PORT,
      SEED_ACCOUNTS: process.env.SEED_ACCOUNTS,
      LOG_LEVEL: process.env.LOG_LEVEL,
    };
    process.env.PORT = '1234';
    process.env.SEED_ACCOUNTS = '7';
    process.env.LOG_LEVEL = 'not-a-level';
    try {
      const config = loadConfig({});
      assert.equal(config.port, 6767);
      assert.equal(config.seedAccounts, 100);
      assert.equal(config.logLevel, 'info');
      assert.equal(loadConfig({ PORT: '4321' }).port, 4321);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  test('reads each documented variable from the object it is given', () => {
    const read = new Set<string>();
    const env = new Proxy<Record<string, string | undefined>>(
      {},
      {
        get(_target, name) {
          if (typeof name === 'string') read.add(name);
          return undefined;
        },
      },
    );
    loadConfig(env);
    const documented = [
      'PORT',
      'HOST',
      'DB_PATH',
      'SEED_ACCOUNTS',
      'LOG_LEVEL',
      'LOG_PRETTY',
      'NODE_ENV',
      'HEALTH_DETAILS',
      'HEALTH_TOKEN',
      'TESTABILITY_ENABLED',
      TESTABILITY_PRODUCTION_OVERRIDE,
      'HEALTH_CHECK_INTERVAL_MS',
      'HEALTH_CHECK_TIMEOUT_MS',
      'HEALTH_EVENT_LOOP_LIMIT_MS',
      'SHUTDOWN_DRAIN_DELAY_MS',
      'SHUTDOWN_TIMEOUT_MS',
      'HTTP_MAX_QUEUED_RESPONSES',
      'HTTP_MAX_QUEUED_BYTES',
      'HTTP_MAX_CONNECTIONS',
    ];
    for (const name of documented) assert.ok(read.has(name), `${name} was not read from the env object`);
  });
});
