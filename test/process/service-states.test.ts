// The built service (dist/accountservice.cjs) driven into each state that matters, through its real
// wiring in main.ts rather than a test copy of it: testability off by default in production, the
// database unreadable under it, its event loop stalled, and lookups in flight while it shuts down.

import { after, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { startService, type LogLine, type ServiceProcess, type StartOptions } from '../helpers/service-process.js';
import { waitFor } from '../helpers/wait.js';
import { seededAccountJson } from '../helpers/account-json.js';

const running: ServiceProcess[] = [];
after(async () => {
  await Promise.all(running.map((service) => service.cleanup()));
});

async function start(options: StartOptions): Promise<ServiceProcess> {
  const service = await startService(options);
  running.push(service);
  return service;
}

interface Answer {
  readonly status: number;
  readonly body: string;
}

/** One request on a fresh connection, bounded: a stalled service fails the test instead of hanging it. */
async function request(url: string, method = 'GET', timeoutMs = 5000): Promise<Answer> {
  const response = await fetch(url, {
    method,
    headers: { connection: 'close' },
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: response.status, body: await response.text() };
}

/** Polls url until its answer satisfies accept; returns that answer. */
function answerBecomes(
  url: string,
  accept: (answer: Answer) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<Answer> {
  return waitFor(
    async () => {
      const answer = await request(url, 'GET', 2000);
      return accept(answer) && answer;
    },
    { timeoutMs, intervalMs: 50, what },
  );
}

function logged(service: ServiceProcess, pattern: RegExp): LogLine | undefined {
  return service.logs.find((line) => pattern.test(line.msg ?? ''));
}

describe('the built service in production, without TESTABILITY_ENABLED', { concurrency: true }, () => {
  for (const [name, env] of [
    ['NODE_ENV=production', { NODE_ENV: 'production' }],
    ['NODE_ENV unset', {}],
  ] as const) {
    test(`${name}: /testability/healthy/false is 404 for GET and PUT, and /health stays 200`, async () => {
      const service = await start({ env });
      for (const method of ['GET', 'PUT']) {
        const answer = await request(`${service.url}/testability/healthy/false`, method);
        assert.equal(answer.status, 404, `${method} /testability/healthy/false: ${answer.body}`);
      }
      assert.deepEqual(await request(`${service.url}/health`), { status: 200, body: '{"status":"UP"}' });
      assert.equal(logged(service, /testability routes are enabled/), undefined, 'no testability warning');
    });
  }
});

describe('the built service when its LMDB file loses what was seeded', () => {
  // LMDB is made for several processes on one file: this test is a second one, writing behind the
  // service's back as a damaged or tampered file would look to it.
  test('/health turns 503 naming database within a bound, and 200 again once the data is back', async (t) => {
    const service = await start({ env: { HEALTH_CHECK_INTERVAL_MS: '100' } });
    // ?details: the public answer names only the fixed cause; the detail says which account is gone.
    const health = `${service.url}/health?details`;
    await answerBecomes(health, (a) => a.status === 200, '/health 200 at start');

    const root: RootDatabase = open({ path: join(service.dataDir, 'accounts.mdb'), maxDbs: 4, compression: false });
    try {
      const accounts: Database<Buffer, string> = root.openDB({ name: 'accounts', encoding: 'binary' });
      const meta: Database<unknown, string> = root.openDB({ name: 'meta', encoding: 'json' });

      const firstAccount = accounts.getBinary('10000');
      assert.ok(firstAccount !== undefined, 'the first seeded account is in the file');
      await accounts.remove('10000');
      const removedAt = Date.now();
      const lost = await answerBecomes(
        health,
        (a) => a.status === 503,
        '/health 503 after the first account is gone',
        5000,
      );
      const down = JSON.parse(lost.body) as { checks: Record<string, { status: string; detail?: string }> };
      assert.equal(down.checks.database?.status, 'DOWN', lost.body);
      assert.match(down.checks.database?.detail ?? '', /10000/, lost.body);
      const lostMs = Date.now() - removedAt;
      await accounts.put('10000', firstAccount);
      const restoredAt = Date.now();
      await answerBecomes(health, (a) => a.status === 200, '/health 200 once the account is back', 5000);
      t.diagnostic(
        `account 10000 removed: /health 503 within ${lostMs} ms (${lost.body}); ` +
          `200 within ${Date.now() - restoredAt} ms of putting it back`,
      );

      const marker = meta.get('seed');
      assert.ok(marker !== undefined, 'the seed marker is in the file');
      await meta.remove('seed');
      const markerRemovedAt = Date.now();
      const unseeded = await answerBecomes(
        health,
        (a) => a.status === 503,
        '/health 503 without the seed marker',
        5000,
      );
      assert.match(unseeded.body, /"database":\{"status":"DOWN"/, unseeded.body);
      t.diagnostic(`seed marker removed: /health 503 within ${Date.now() - markerRemovedAt} ms (${unseeded.body})`);
      await meta.put('seed', marker);
      await answerBecomes(health, (a) => a.status === 200, '/health 200 once the marker is back', 5000);
    } finally {
      await root.close();
    }
  });
});

describe('the built service when its event loop stalls', () => {
  test('/health/live turns 503 with the stall in the cause, then 200 again', async (t) => {
    const limitMs = 500;
    const stallMs = 2000;
    const service = await start({ env: { HEALTH_EVENT_LOOP_LIMIT_MS: String(limitMs) } });
    // ?details: the measured delay is in the check's detail, not in its public cause.
    const live = `${service.url}/health/live?details`;
    await answerBecomes(live, (a) => a.status === 200, '/health/live 200 before the stall');

    // A stopped process is the purest stall: not one tick of its loop runs until SIGCONT.
    service.child.kill('SIGSTOP');
    try {
      await new Promise((resolve) => setTimeout(resolve, stallMs));
    } finally {
      service.child.kill('SIGCONT');
    }
    const down = await answerBecomes(live, (a) => a.status === 503, '/health/live 503 after the stall', 5000);
    const cause = /event loop delay (\d+) ms exceeds (\d+) ms/.exec(down.body);
    assert.ok(cause, `no event-loop cause in ${down.body}`);
    const delayMs = Number(cause[1]);
    assert.equal(Number(cause[2]), limitMs);
    // The stall as measured, within what a loaded machine adds to the time it was stopped.
    assert.ok(
      delayMs >= stallMs * 0.75 && delayMs <= stallMs * 5,
      `reported delay ${delayMs} ms for a ${stallMs} ms stall`,
    );

    const resumedAt = Date.now();
    await answerBecomes(live, (a) => a.status === 200, '/health/live 200 again after the stall', 10_000);
    t.diagnostic(
      `stopped ${stallMs} ms: /health/live 503 "${cause[0]}"; 200 again within ${Date.now() - resumedAt} ms of SIGCONT`,
    );
  });
});

describe('the built service shutting down under lookups', () => {
  test('every lookup it accepts while draining is answered 200 with the account, none 503 for a closed store', async (t) => {
    const drainMs = 1000;
    const service = await start({ env: { SHUTDOWN_DRAIN_DELAY_MS: String(drainMs), SHUTDOWN_TIMEOUT_MS: '5000' } });
    let exited = false;
    void service.exited.then(() => {
      exited = true;
    });
    const answers: Array<Answer & { readonly id: string; readonly afterSignal: boolean }> = [];
    let signalled = false;
    let failures = 0;
    // Keep-alive connections (fetch's pool), as a load balancer's: they go on sending while the
    // service drains, and every lookup the service takes in must find the store open.
    const worker = async (offset: number): Promise<void> => {
      for (let i = 0; !exited; i++) {
        const id = String(10_000 + ((offset * 12 + i) % 100));
        const afterSignal = signalled;
        try {
          const response = await fetch(`${service.url}/accounts/${id}`, { signal: AbortSignal.timeout(3000) });
          answers.push({ id, afterSignal, status: response.status, body: await response.text() });
        } catch {
          // Refused or reset: the service did not take this one in, which is what closing means.
          failures++;
          if (failures > 1000) return;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
    };
    const workers = [0, 1, 2, 3, 4, 5, 6, 7].map(worker);
    await waitFor(() => answers.length >= 20, { what: 'lookups before the signal' });
    service.child.kill('SIGTERM');
    signalled = true;
    assert.equal(await service.exitedWithin(drainMs + 10_000), 0);
    await Promise.all(workers);

    for (const answer of answers) {
      if (answer.status === 200) {
        assert.equal(answer.body, seededAccountJson(Number(answer.id) - 10_000));
      } else {
        // Only a refusal to take new work may differ (the framework's 503 once it is closing).
        assert.equal(answer.status, 503, JSON.stringify(answer));
        assert.doesNotMatch(answer.body, /database|store/i, `a lookup met a closed store: ${JSON.stringify(answer)}`);
      }
    }
    const refused = answers.filter((a) => a.afterSignal && a.status !== 200).length;
    t.diagnostic(
      `after SIGTERM (drain ${drainMs} ms): ${answers.filter((a) => a.afterSignal && a.status === 200).length} lookups ` +
        `200 with the account, ${refused} refused with 503, ${failures} not connected; ${answers.length} answers in all`,
    );
    // Not vacuous: the drain really was served.
    const servedDuringDrain = answers.filter((a) => a.afterSignal && a.status === 200).length;
    assert.ok(servedDuringDrain >= 10, `only ${servedDuringDrain} lookups answered 200 after SIGTERM`);
    assert.ok(logged(service, /^shutdown complete$/), 'shutdown completed');
  });
});
