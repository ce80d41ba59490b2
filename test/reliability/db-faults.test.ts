// The database failing under a running service (unreadable, slow, hanging) and missing or unwritable
// at start. While running, a FaultyStore wraps a real LMDB store in a temp dir; at start, the built
// service runs as a child process.

import { after, before, beforeEach, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LmdbAccountStore } from '../../src/accounts/lmdb-account-store.js';
import { seedAccounts } from '../../src/accounts/seed.js';
import { LOOKUP_TIMEOUT_MS } from '../../src/accounts/routes.js';
import { FaultyStore, type FaultMode } from '../helpers/faulty-store.js';
import { seededAccountJson } from '../helpers/account-json.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { startServiceRaw } from '../helpers/service-process.js';
import { waitFor } from '../helpers/wait.js';
import { withDeadline } from '../helpers/deadline.js';
import { asNonRoot, giveToServiceUser, serviceUid } from '../helpers/non-root.js';

const CHECK_INTERVAL_MS = 100;
const CHECK_TIMEOUT_MS = 200;
/** One check interval plus the check's timeout, plus room for a loaded 2-core machine. */
const DETECT_WITHIN_MS = CHECK_INTERVAL_MS + CHECK_TIMEOUT_MS + 1000;
/** No lookup may take longer than the lookup deadline plus this. */
const LOOKUP_SLACK_MS = 1000;
const UNAVAILABLE_MESSAGE = 'the account database is unavailable right now; try again later';

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly ms: number;
}

/** A GET that the client gives up on after limitMs: giving up fails the test, a hang never passes. */
async function get(url: string, limitMs: number): Promise<Answer> {
  const started = Date.now();
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(limitMs) });
  } catch (error) {
    throw new Error(`GET ${url} got no answer within ${limitMs} ms: ${(error as Error).message}`, { cause: error });
  }
  return { status: response.status, headers: response.headers, text: await response.text(), ms: Date.now() - started };
}

interface HealthBody {
  status: string;
  checks: Record<string, { status: string; cause?: string }>;
}

describe('database faults while the service runs (FaultyStore around a real LMDB store)', () => {
  let dir: string;
  let faulty: FaultyStore;
  let service: TestApp;
  let faultsSeen = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'accountservice-faults-'));
    const lmdb = LmdbAccountStore.open(join(dir, 'accounts.mdb'));
    await lmdb.seed(seedAccounts(100));
    faulty = new FaultyStore(lmdb);
    service = await startTestApp({
      store: faulty,
      checkIntervalMs: CHECK_INTERVAL_MS,
      checkTimeoutMs: CHECK_TIMEOUT_MS,
    });
  });

  after(async () => {
    await service.close();
    await faulty.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Waits (bounded) for /health to say 503 with the database DOWN; returns the body and how long it took. */
  async function healthGoesDown(since: number): Promise<{ body: HealthBody; afterMs: number }> {
    const body = await waitFor(
      async () => {
        const answer = await get(`${service.url}/health`, 1000);
        return answer.status === 503 ? (JSON.parse(answer.text) as HealthBody) : undefined;
      },
      { timeoutMs: DETECT_WITHIN_MS, intervalMs: 10, what: `/health to turn 503 within ${DETECT_WITHIN_MS} ms` },
    );
    return { body, afterMs: Date.now() - since };
  }

  async function recovers(t: TestContext, withinMs: number): Promise<void> {
    const since = Date.now();
    faulty.setMode('ok');
    await waitFor(async () => (await get(`${service.url}/health`, 1000)).status === 200, {
      timeoutMs: withinMs,
      intervalMs: 10,
      what: `/health to be 200 again within ${withinMs} ms of the database coming back`,
    });
    const recoveredMs = Date.now() - since;
    const lookup = await get(`${service.url}/accounts/10042`, 1000);
    assert.equal(lookup.status, 200, 'lookups work again');
    assert.equal(lookup.text, seededAccountJson(42));
    t.diagnostic(`recovered by itself: /health 200 ${recoveredMs} ms after the database came back`);
  }

  /** Sends concurrent lookups and checks each answers 503 with the clear message, none past the bound. */
  async function lookupsAnswer503(boundMs: number, count = 10): Promise<number> {
    const answers = await Promise.all(
      Array.from({ length: count }, (_, i) => get(`${service.url}/accounts/${10_000 + i}`, boundMs)),
    );
    for (const answer of answers) {
      assert.equal(answer.status, 503, answer.text);
      assert.equal(answer.headers.get('retry-after'), '1');
      assert.deepEqual(JSON.parse(answer.text), {
        statusCode: 503,
        error: 'Service Unavailable',
        message: UNAVAILABLE_MESSAGE,
      });
    }
    return Math.max(...answers.map((answer) => answer.ms));
  }

  // Each case starts from a healthy service, whatever the case before it left behind.
  beforeEach(async () => {
    faulty.setMode('ok');
    await waitFor(async () => (await get(`${service.url}/health`, 1000)).status === 200, {
      timeoutMs: LOOKUP_TIMEOUT_MS + DETECT_WITHIN_MS + 1000,
      what: 'a healthy service before the fault',
    });
  });

  async function injectAndCheck(t: TestContext, mode: FaultMode, expectedCause: RegExp, slowMs?: number) {
    const before = faulty.faultsInjected;
    const since = Date.now();
    faulty.setMode(mode, slowMs === undefined ? {} : { slowMs });

    const { body, afterMs } = await healthGoesDown(since);
    assert.equal(body.status, 'DOWN');
    assert.equal(body.checks.database?.status, 'DOWN', JSON.stringify(body));
    // Anyone sees the fixed public cause; the fault itself is in the details (allowed here).
    assert.equal(body.checks.database?.cause, 'the database cannot be read');
    const detailed = JSON.parse((await get(`${service.url}/health?details`, 1000)).text) as {
      checks: Record<string, { detail?: string }>;
    };
    const detail = detailed.checks.database?.detail ?? '';
    assert.match(detail, expectedCause);

    // /health itself answers at once from the background result, however sick the database is.
    const probe = await get(`${service.url}/health`, 1000);
    assert.equal(probe.status, 503);

    const slowest = await lookupsAnswer503(LOOKUP_TIMEOUT_MS + LOOKUP_SLACK_MS);
    faultsSeen += faulty.faultsInjected - before;
    t.diagnostic(
      `${mode}: /health 503 after ${afterMs} ms (detail: ${detail}); ` +
        `10 concurrent lookups all 503, the slowest in ${slowest} ms; faults injected ${faulty.faultsInjected - before}`,
    );
  }

  it('unreadable: /health 503 naming database and the cause within one check interval; lookups 503; recovers by itself', async (t) => {
    await injectAndCheck(t, 'fail', /EIO: i\/o error/);
    await recovers(t, DETECT_WITHIN_MS);
  });

  it('slow (slower than the check timeout and the lookup deadline): /health 503 "timed out"; lookups 503 within their deadline; recovers', async (t) => {
    const slowMs = LOOKUP_TIMEOUT_MS + 500;
    await injectAndCheck(t, 'slow', new RegExp(`timed out after ${CHECK_TIMEOUT_MS} ms`), slowMs);
    // The check still running when the database comes back may take slowMs to return first.
    await recovers(t, slowMs + DETECT_WITHIN_MS);
  });

  it('hanging: /health 503 "timed out"; no lookup hangs past its deadline; recovers when the database comes back', async (t) => {
    await injectAndCheck(t, 'hang', new RegExp(`timed out after ${CHECK_TIMEOUT_MS} ms`));
    assert.ok(faulty.hangingCalls > 0, 'calls really are held by the hanging database');
    // Many more lookups while it hangs: each still answers within its deadline.
    const slowest = await lookupsAnswer503(LOOKUP_TIMEOUT_MS + LOOKUP_SLACK_MS, 50);
    t.diagnostic(
      `hang: 50 more concurrent lookups all 503, the slowest in ${slowest} ms; ${faulty.hangingCalls} calls held`,
    );
    await recovers(t, DETECT_WITHIN_MS);
    assert.equal(faulty.hangingCalls, 0);
  });

  it('reports the figures', (t) => {
    assert.ok(faultsSeen > 0);
    t.diagnostic(`faults injected while running: ${faultsSeen} failed, slowed or held database calls`);
  });
});

describe('the data directory missing or unusable at start (child process)', () => {
  let scratch: string;
  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'accountservice-datadir-'));
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  /** Runs the service expecting it to refuse to start; returns its fatal message. */
  async function refusesToStart(dbPath: string, prefix: readonly string[] = []): Promise<string> {
    const service = startServiceRaw({ env: { DB_PATH: dbPath }, dataDir: scratch, prefix });
    try {
      const code = await withDeadline(service.exited, 15_000, 'the service to exit');
      assert.equal(
        code,
        1,
        `exit code 1 (never a signal); stdout: ${JSON.stringify(service.logs)} stderr: ${service.stderr()}`,
      );
      assert.equal(service.url(), undefined, 'it never listened');
      assert.ok(
        !service.logs.some((line) => /Starting HTTP service|Seeded/.test(line.msg ?? '')),
        'nothing half-started: no seed, no listener',
      );
      const fatal = service.logs.find((line) => line.level === 60);
      assert.ok(fatal, `a fatal log line; stdout: ${JSON.stringify(service.logs)} stderr: ${service.stderr()}`);
      assert.equal(service.logs.filter((line) => line.level === 60).length, 1, 'one fatal line');
      assert.equal(service.stderr(), '', 'nothing on stderr');
      return String(fatal.msg);
    } finally {
      await service.cleanup();
    }
  }

  it('exits 1 with a clear message when the data directory does not exist', async (t) => {
    const dbPath = join(scratch, 'no-such-dir', 'accounts.mdb');
    const message = await refusesToStart(dbPath);
    assert.match(
      message,
      /cannot open the database at .*no-such-dir\/accounts\.mdb: the directory .*no-such-dir does not exist/,
    );
    t.diagnostic(message);
  });

  it('exits 1 with a clear message when the data "directory" is a regular file (ENOTDIR)', async (t) => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, 'not a directory');
    const message = await refusesToStart(join(file, 'accounts.mdb'));
    assert.match(message, /cannot open the database at .*a-file\/accounts\.mdb: .*a-file is not a directory/);
    t.diagnostic(message);
  });

  it('exits 1 with a clear message when the data directory is unwritable (chattr +i, as root)', async (t) => {
    const dir = join(scratch, 'immutable');
    mkdirSync(dir);
    // Root ignores permission bits; an immutable directory stops root too, where the file system allows it.
    const chattr = spawnSync('chattr', ['+i', dir]);
    if (chattr.status !== 0) {
      t.skip(
        `chattr +i is not available here (${chattr.stderr?.toString().trim() || chattr.error?.message}); see docs/reliability.md`,
      );
      return;
    }
    try {
      const message = await refusesToStart(join(dir, 'accounts.mdb'));
      assert.match(message, /cannot open the database at .*immutable\/accounts\.mdb: /);
      t.diagnostic(message);
    } finally {
      spawnSync('chattr', ['-i', dir]);
    }
  });

  /**
   * A directory of the service's user (as the image's /data) holding a seeded database, with no
   * lock file; mode is then set on the directory.
   */
  async function seededDirOfServiceUser(name: string): Promise<{ dir: string; file: string }> {
    chmodSync(scratch, 0o755); // mkdtemp's 0700 would keep the service's user out
    const dir = join(scratch, name);
    mkdirSync(dir);
    const file = join(dir, 'accounts.mdb');
    const store = LmdbAccountStore.open(file);
    await store.seed(seedAccounts(100));
    await store.close();
    rmSync(`${file}-lock`);
    for (const path of [dir, file]) giveToServiceUser(path);
    return { dir, file };
  }

  const asUser = `this user \\(uid ${serviceUid}\\)`;

  it('as a non-root user, the data file writable but its directory read-only (no lock file possible): exit 1, one line, no SIGSEGV', async (t) => {
    const { dir } = await seededDirOfServiceUser('read-only-dir');
    chmodSync(dir, 0o555);
    const message = await refusesToStart(join(dir, 'accounts.mdb'), asNonRoot());
    assert.match(
      message,
      new RegExp(
        `^cannot open the database at .*read-only-dir/accounts\\.mdb: ${asUser} cannot create its lock file .*read-only-dir/accounts\\.mdb-lock for writing \\(EACCES: permission denied\\)`,
      ),
    );
    assert.match(message, new RegExp(`make .*read-only-dir writable for ${asUser}$`));
    t.diagnostic(message);
  });

  it('as a non-root user, a lock file of another user that it cannot write: exit 1, one line, no SIGSEGV', async (t) => {
    const { dir, file } = await seededDirOfServiceUser('foreign-lock');
    writeFileSync(`${file}-lock`, '');
    chmodSync(`${file}-lock`, 0o444); // owned by root, as the test runs; read-only as any other user
    const message = await refusesToStart(join(dir, 'accounts.mdb'), asNonRoot());
    assert.match(
      message,
      new RegExp(`${asUser} cannot open its lock file .*foreign-lock/accounts\\.mdb-lock for writing`),
    );
    t.diagnostic(message);
  });

  it('as a non-root user, a data file it cannot write: exit 1, one line naming it', async (t) => {
    const { dir, file } = await seededDirOfServiceUser('read-only-file');
    chmodSync(file, 0o444);
    const message = await refusesToStart(join(dir, 'accounts.mdb'), asNonRoot());
    assert.match(
      message,
      new RegExp(`${asUser} cannot open the data file .*read-only-file/accounts\\.mdb for writing`),
    );
    t.diagnostic(message);
  });
});
