// The built service (dist/accountservice.cjs) as a child process: it starts on a free port, serves
// accounts, logs as the original does, stops with exit 0 on SIGTERM, keeps exactly its accounts
// across restarts on the same data, logs readable lines with LOG_PRETTY, and refuses a missing
// data directory or a bad configuration with exit 1 and a message that says what is wrong.

import { after, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LmdbAccountStore } from '../../src/accounts/lmdb-account-store.js';
import { seededAccountJson } from '../helpers/account-json.js';
import { startService, startServiceRaw, type ServiceProcess } from '../helpers/service-process.js';
import { withDeadline } from '../helpers/deadline.js';
import { waitFor } from '../helpers/wait.js';

const running: Array<{ cleanup(): Promise<void> }> = [];
const tempDirs: string[] = [];
after(async () => {
  await Promise.all(running.map((service) => service.cleanup()));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

async function start(options: Parameters<typeof startService>[0] = {}): Promise<ServiceProcess> {
  const service = await startService(options);
  running.push(service);
  return service;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'accountservice-start-'));
  tempDirs.push(dir);
  return dir;
}

async function get(service: ServiceProcess, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${service.url}${path}`, { headers: { connection: 'close' } });
  return { status: res.status, body: await res.text() };
}

function logIndex(service: Pick<ServiceProcess, 'logs'>, msg: string | RegExp): number {
  return service.logs.findIndex((line) => (typeof msg === 'string' ? line.msg === msg : msg.test(line.msg ?? '')));
}

/** Asserts accounts 10000..10000+count-1 answer and the next id is 404. */
async function assertAccounts(service: ServiceProcess, count: number): Promise<void> {
  const last = String(10_000 + count - 1);
  assert.deepEqual(await get(service, `/accounts/${last}`), {
    status: 200,
    body: seededAccountJson(count - 1),
  });
  assert.equal((await get(service, `/accounts/${10_000 + count}`)).status, 404);
}

async function storedCount(dataDir: string): Promise<number> {
  const store = LmdbAccountStore.open(join(dataDir, 'accounts.mdb'));
  try {
    return await store.count();
  } finally {
    await store.close();
  }
}

// Independent children (each its own port and data dir), so they may start side by side.
describe('the service process', { concurrency: true }, () => {
  test('starts, serves an account, logs its start and exits 0 on SIGTERM', async () => {
    const service = await start();
    assert.match(service.url, /^http:\/\/127\.0\.0\.1:[1-9][0-9]*$/);

    const res = await fetch(`${service.url}/accounts/10000`, { headers: { connection: 'close' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(await res.text(), seededAccountJson(0));

    const starting = logIndex(service, 'Starting accountservice');
    const seeded = logIndex(service, 'Seeded 100 fake accounts...');
    const listening = logIndex(service, `Starting HTTP service at ${service.url}`);
    assert.ok(starting >= 0 && seeded > starting && listening > seeded, `log order in ${JSON.stringify(service.logs)}`);
    for (const index of [starting, seeded, listening]) {
      const line = service.logs[index]!;
      assert.equal(line.level, 30, 'info level');
      assert.equal(typeof line.time, 'number');
      assert.equal(line.service, 'accountservice');
    }
    assert.equal(service.logs[seeded]!.total, 100);
    assert.deepEqual(
      service.logs.filter((line) => 'raw' in line),
      [],
      'every stdout line is pino JSON',
    );

    assert.equal(await service.stop('SIGTERM'), 0);
    assert.equal(service.stderr(), '');
  });

  test('LOG_PRETTY=true: readable lines instead of JSON, and it serves and stops with 0 as usual', async () => {
    // pino-pretty formats in this thread: a pino transport would look for a worker file beside
    // pino's own, which the bundle does not have.
    const service = startServiceRaw({ env: { LOG_PRETTY: 'true' } });
    running.push(service);
    const rawLines = (): string[] => service.logs.map((line) => line.raw ?? '');
    const url = await waitFor(
      () =>
        rawLines()
          .map((line) => /Starting HTTP service at (http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1])
          .find(Boolean),
      {
        timeoutMs: 15_000,
        what: `a readable listen line in ${JSON.stringify(service.logs)}`,
      },
    );
    const res = await fetch(`${url}/accounts/10000`, { headers: { connection: 'close' } });
    assert.equal(res.status, 200);
    assert.ok(
      rawLines().some((line) => /INFO.*Seeded 100 fake accounts/.test(line)),
      JSON.stringify(rawLines()),
    );
    // The launcher's code cache line comes before the configuration (LOG_PRETTY too) is read.
    assert.deepEqual(
      service.logs.filter((line) => !('raw' in line) && line.codeCache === undefined),
      [],
      "no JSON line but the launcher's",
    );
    assert.equal(await service.stop('SIGTERM'), 0);
    assert.equal(service.stderr(), '');
  });

  test('restarted on the same data it has exactly 100 accounts, not 200', async () => {
    const dataDir = tempDir();
    const first = await start({ dataDir });
    await assertAccounts(first, 100);
    assert.equal(await first.stop('SIGTERM'), 0);

    const second = await start({ dataDir });
    await assertAccounts(second, 100);
    const seeded = second.logs[logIndex(second, 'Seeded 100 fake accounts...')];
    assert.equal(seeded?.total, 100, 'the seed log line reports the total');
    assert.equal(await second.stop('SIGTERM'), 0);

    assert.equal(await storedCount(dataDir), 100, 'accounts in the LMDB file after both runs');
  });

  test('SEED_ACCOUNTS=5 seeds five, and a restart with it keeps exactly five', async () => {
    const dataDir = tempDir();
    for (const run of ['first run', 'restart']) {
      const service = await start({ dataDir, env: { SEED_ACCOUNTS: '5' } });
      await assertAccounts(service, 5);
      assert.ok(logIndex(service, 'Seeded 5 fake accounts...') >= 0, `${run}: ${JSON.stringify(service.logs)}`);
      assert.equal(await service.stop('SIGTERM'), 0, run);
      assert.equal(await storedCount(dataDir), 5, run);
    }
  });

  test('a data directory that is missing or not a directory, or DB_PATH naming a directory: exit 1 with a fatal line naming the path', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a-file'), 'x');
    mkdirSync(join(dir, 'volume'));
    const cases = [
      { dbPath: join(dir, 'missing', 'accounts.mdb'), reason: /does not exist/ },
      { dbPath: join(dir, 'a-file', 'accounts.mdb'), reason: /is not a directory/ },
      {
        dbPath: join(dir, 'volume'),
        reason: /is a directory; the path names the database file/,
        env: { DB_ON_DAMAGE: 'rebuild' },
      },
    ];
    await Promise.all(
      cases.map(async ({ dbPath, reason, env }) => {
        const service = startServiceRaw({ env: { DB_PATH: dbPath, ...env } });
        running.push(service);
        const closed = once(service.child, 'close'); // after exit and all of stdout and stderr
        assert.equal(await service.exitedWithin(15_000), 1, dbPath);
        await withDeadline(closed, 5000, 'stdout and stderr to close');
        const fatal = service.logs.find((line) => line.level === 60);
        assert.ok(fatal, `no fatal log line in ${JSON.stringify(service.logs)}`);
        assert.match(String(fatal.msg), /^cannot open the database at /);
        assert.ok(String(fatal.msg).includes(dbPath), String(fatal.msg));
        assert.match(String(fatal.msg), reason);
        assert.equal(logIndex(service, /^Starting HTTP service/), -1, 'it never listens');
        assert.doesNotMatch(service.stderr(), /\n\s+at /, 'no stack trace');
      }),
    );
    assert.deepEqual(
      readdirSync(dir).sort(),
      ['a-file', 'volume'],
      'nothing moved aside, even with DB_ON_DAMAGE=rebuild',
    );
  });
});

// Each rule of loadConfig has its unit test; these prove the wiring: stderr lines, exit 1, no stack.
describe('the service process with an invalid configuration', { concurrency: true }, () => {
  const cases: ReadonlyArray<{ name: string; env: Record<string, string>; variables: string[] }> = [
    { name: 'PORT=70000', env: { PORT: '70000' }, variables: ['PORT'] },
    {
      name: 'TESTABILITY_ENABLED=true in production',
      env: { NODE_ENV: 'production', TESTABILITY_ENABLED: 'true' },
      variables: ['TESTABILITY_ENABLED=true'],
    },
    {
      // A test-only setting no longer exists: the launcher used to sleep up to 60 s on it first.
      name: 'PORT=abc with STARTUP_PHASE_PAUSE_MS=60000 set',
      env: { PORT: 'abc', STARTUP_PHASE_PAUSE_MS: '60000' },
      variables: ['PORT'],
    },
    {
      name: 'several at once',
      env: { PORT: 'abc', SEED_ACCOUNTS: '-1', LOG_LEVEL: 'loud', TESTABILITY_ENABLED: 'maybe' },
      variables: ['LOG_LEVEL', 'PORT', 'SEED_ACCOUNTS', 'TESTABILITY_ENABLED'],
    },
  ];
  for (const { name, env, variables } of cases) {
    test(`${name}: exit 1, one stderr line per problem naming the variable, no stack`, async () => {
      const service = startServiceRaw({ env });
      running.push(service);
      const closed = once(service.child, 'close'); // after exit and all of stdout and stderr
      // Bounded: were the refusal broken, the service would listen and never exit.
      assert.equal(await service.exitedWithin(15_000), 1);
      await withDeadline(closed, 5000, 'stdout and stderr to close');
      const stderr = service.stderr();
      assert.ok(stderr.endsWith('\n'), JSON.stringify(stderr));
      const lines = stderr.slice(0, -1).split('\n');
      const prefix = 'accountservice: invalid configuration: ';
      for (const line of lines) assert.ok(line.startsWith(prefix), `unexpected stderr line: ${JSON.stringify(line)}`);
      const named = lines.map((line) => line.slice(prefix.length).split(' ')[0]).sort();
      assert.deepEqual(named, variables, stderr);
      for (const [variable, value] of Object.entries(env)) {
        if (variable === 'NODE_ENV') continue;
        if (variables.includes(variable)) assert.ok(stderr.includes(`(got "${value}")`), `${variable}: ${stderr}`);
      }
      assert.deepEqual(
        service.logs.filter((line) => line.codeCache === undefined),
        [],
        "nothing is logged (but the launcher's code cache line) or served before the configuration is valid",
      );
    });
  }
});

describe('a HEALTH_TOKEN the details mode would ignore', { concurrency: true }, () => {
  const token = 'a-secret-token-of-some-length';
  const envs: ReadonlyArray<Record<string, string>> = [
    { HEALTH_TOKEN: token },
    { HEALTH_TOKEN: token, NODE_ENV: 'production' },
    { HEALTH_TOKEN: token, HEALTH_DETAILS: 'always' },
  ];
  for (const env of envs) {
    test(`${Object.keys(env).join(' + ')}: exit 1 before serving, saying why, the secret unsaid`, async () => {
      const service = startServiceRaw({ env });
      running.push(service);
      const closed = once(service.child, 'close');
      assert.equal(await service.exited, 1);
      await closed;
      assert.match(
        service.stderr(),
        /^accountservice: invalid configuration: HEALTH_TOKEN is set but HEALTH_DETAILS is (always|never).*, so the token would be ignored/,
      );
      assert.ok(!service.stderr().includes(token));
      assert.deepEqual(
        service.logs.filter((line) => line.codeCache === undefined),
        [],
        "nothing is logged (but the launcher's code cache line) or served",
      );
    });
  }
});
