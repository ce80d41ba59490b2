// The HTTP face of health against the real app on a real port: statuses, headers, bodies, formats.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { seededMemoryStore, startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';
import { FaultyStore } from '../helpers/faulty-store.js';
import { InMemoryAccountStore } from '../../src/accounts/account-store.js';
import { seedAccounts } from '../../src/accounts/seed.js';
import { loadConfig } from '../../src/config.js';
import { createServiceHealth } from '../../src/health/service-health.js';
import { buildApp } from '../../src/http/app.js';
import { createLifecycle } from '../../src/shared/lifecycle.js';

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function get(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, init);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

const GO_TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const GO_FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

describe('health over HTTP, default setup', () => {
  let service: TestApp;
  before(async () => {
    service = await startTestApp();
  });
  after(() => service.close());

  it('answers the article\'s body byte for byte: 200 {"status":"UP"}', async () => {
    const answer = await get(`${service.url}/health`);
    assert.equal(answer.status, 200);
    assert.equal(answer.text, '{"status":"UP"}');
    assert.equal(answer.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(answer.headers.get('cache-control'), 'no-store');
    assert.equal(answer.headers.get('content-length'), '15');
  });

  it('answers HEAD /health with the status and no body', async () => {
    const answer = await get(`${service.url}/health`, { method: 'HEAD' });
    assert.equal(answer.status, 200);
    assert.equal(answer.text, '');
    assert.equal(answer.headers.get('cache-control'), 'no-store');
  });

  for (const path of ['/health/live', '/health/ready', '/health/started']) {
    it(`answers ${path} 200 {"status":"UP"} when all is well`, async () => {
      const answer = await get(`${service.url}${path}`);
      assert.equal(answer.status, 200);
      assert.equal(answer.text, '{"status":"UP"}');
    });
  }

  it('has no testability routes unless enabled', async () => {
    for (const method of ['GET', 'PUT']) {
      const answer = await get(`${service.url}/testability/healthy/false`, { method });
      assert.equal(answer.status, 404);
      assert.equal(JSON.parse(answer.text).statusCode, 404);
    }
    assert.equal((await get(`${service.url}/health`)).status, 200);
  });

  it('answers one check alone, and 404 naming the known checks for an unknown one', async () => {
    const database = await get(`${service.url}/health/checks/database`);
    assert.equal(database.status, 200);
    // One check is shown only to a caller allowed details (here: always), so it comes with them.
    assert.equal(JSON.parse(database.text).checks.database.status, 'UP');
    const unknown = await get(`${service.url}/health/checks/nope`);
    assert.equal(unknown.status, 404);
    assert.match(
      JSON.parse(unknown.text).message,
      /no health check named "nope"; there are: database, startup, event-loop, shutdown/,
    );
  });

  it('serves the IETF health+json format when the Accept header asks for it', async () => {
    const answer = await get(`${service.url}/health`, { headers: { accept: 'application/health+json' } });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('content-type'), 'application/health+json; charset=utf-8');
    const body = JSON.parse(answer.text);
    assert.equal(body.status, 'pass');
    assert.deepEqual(body.checks, {}, 'no details were asked for');
  });

  it('shows every check with durations and history when details are asked and allowed', async () => {
    const answer = await get(`${service.url}/health?details`);
    assert.equal(answer.status, 200);
    const body = JSON.parse(answer.text);
    assert.equal(body.status, 'UP');
    assert.deepEqual(Object.keys(body.checks), ['database', 'startup', 'event-loop']);
    assert.equal(body.checks.database.status, 'UP');
    assert.equal(typeof body.checks.database.durationMs, 'number');
    assert.ok(!Number.isNaN(Date.parse(body.checks.database.since)));
    assert.ok(Array.isArray(body.history));
    assert.ok(body.history.some((t: { check: string; to: string }) => t.check === 'database' && t.to === 'UP'));
  });

  it('lists checks Kubernetes-style with ?verbose', async () => {
    const answer = await get(`${service.url}/health/ready?verbose`);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(answer.text, '[+]database ok\n[+]startup ok\n[+]shutdown ok\nready check passed\n');
  });

  it('turns readiness 503 as soon as shutdown starts, while /health and liveness stay 200', async () => {
    const local = await startTestApp();
    try {
      local.lifecycle.markShuttingDown();
      const ready = await get(`${local.url}/health/ready`);
      assert.equal(ready.status, 503);
      assert.deepEqual(JSON.parse(ready.text), {
        status: 'DOWN',
        checks: { shutdown: { status: 'DOWN', cause: 'shutting down: not taking new work' } },
      });
      assert.equal(ready.headers.get('connection'), 'close', 'draining tells keep-alive clients to go');
      assert.equal((await get(`${local.url}/health`)).status, 200);
      assert.equal((await get(`${local.url}/health/live`)).status, 200);
    } finally {
      await local.close();
    }
  });

  it('answers /health/started 503 until seeding has finished, then 200', async () => {
    // The service listens only once seeding is done, so the starting phase is seen on the service's
    // own parts, composed here as service.ts composes them, with the lifecycle left in 'starting'.
    const lifecycle = createLifecycle();
    const store = await seededMemoryStore(100);
    const { health: settings, watch } = loadConfig({ HEALTH_DETAILS: 'always' });
    const health = createServiceHealth({ store, lifecycle, testability: undefined, health: settings, watch });
    const app = await buildApp({ logger: pino({ level: 'silent' }), store, health, lifecycle });
    try {
      await health.start();
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      const before = await get(`${url}/health/started`);
      assert.equal(before.status, 503);
      assert.equal(JSON.parse(before.text).checks.startup.cause, 'seeding has not finished');
      lifecycle.markServing();
      assert.equal((await get(`${url}/health/started`)).status, 200);
    } finally {
      await app.close();
    }
  });
});

describe('the testability switch over HTTP', () => {
  let service: TestApp;
  before(async () => {
    service = await startTestApp({ testability: true });
  });
  after(() => service.close());

  it('makes /health 503 naming the switch (not "Database unaccessible"), and 200 again when switched back', async () => {
    const off = await get(`${service.url}/testability/healthy/false`);
    assert.equal(off.status, 200);
    assert.deepEqual(JSON.parse(off.text), { healthy: false });
    const down = await get(`${service.url}/health`);
    assert.equal(down.status, 503);
    assert.equal(down.headers.get('cache-control'), 'no-store');
    assert.deepEqual(JSON.parse(down.text), {
      status: 'DOWN',
      checks: { testability: { status: 'DOWN', cause: 'switched off through /testability/healthy/false' } },
    });
    for (const view of ['live', 'ready']) assert.equal((await get(`${service.url}/health/${view}`)).status, 503);
    assert.equal((await get(`${service.url}/testability/healthy/true`, { method: 'PUT' })).status, 200);
    assert.equal((await get(`${service.url}/health`)).text, '{"status":"UP"}');
  });

  it("accepts every spelling Go's ParseBool accepts", async () => {
    for (const [states, healthy] of [
      [GO_FALSE, false],
      [GO_TRUE, true],
    ] as const) {
      for (const state of states) {
        const answer = await get(`${service.url}/testability/healthy/${state}`);
        assert.equal(answer.status, 200, state);
        assert.deepEqual(JSON.parse(answer.text), { healthy }, state);
        assert.equal((await get(`${service.url}/health`)).status, healthy ? 200 : 503, state);
      }
    }
  });

  it('refuses anything else with 400 and the accepted values', async () => {
    for (const state of ['yes', 'no', 'on', 'tRuE', '2', 'maybe', '%20']) {
      const answer = await get(`${service.url}/testability/healthy/${state}`, { method: 'PUT' });
      assert.equal(answer.status, 400, state);
      assert.match(
        JSON.parse(answer.text).message,
        /^state must be one of 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False/,
      );
    }
    assert.equal((await get(`${service.url}/health`)).status, 200, 'a refused request changes nothing');
  });

  it('lets ?exclude skip a check for one request', async () => {
    await get(`${service.url}/testability/healthy/false`);
    try {
      assert.equal((await get(`${service.url}/health`)).status, 503);
      assert.equal((await get(`${service.url}/health?exclude=testability`)).status, 200);
      assert.equal((await get(`${service.url}/health/checks/testability`)).status, 503);
    } finally {
      await get(`${service.url}/testability/healthy/true`);
    }
  });

  it('renders a failure in each format', async () => {
    await get(`${service.url}/testability/healthy/false`);
    try {
      const ietf = await get(`${service.url}/health`, { headers: { accept: 'application/health+json' } });
      assert.equal(ietf.status, 503);
      const body = JSON.parse(ietf.text);
      assert.equal(body.status, 'fail');
      assert.deepEqual(body.checks['testability:status'][0], {
        componentId: 'testability',
        status: 'fail',
        output: 'switched off through /testability/healthy/false',
      });
      const text = await get(`${service.url}/health?verbose`);
      assert.equal(text.status, 503);
      assert.match(text.text, /^\[\+\]database ok\n/);
      // Details are allowed here (test default): the detailed cause follows the public one.
      assert.match(
        text.text,
        /\n\[-\]testability failed: switched off through \/testability\/healthy\/false \(the testability switch was set to false\)\nhealth check failed\n$/,
      );
    } finally {
      await get(`${service.url}/testability/healthy/true`);
    }
  });
});

describe('health details permission', () => {
  const TOKEN = 'a-very-secret-token-123';

  it('never shows details when the setting is never, even when asked', async () => {
    const service = await startTestApp({ details: 'never' });
    try {
      assert.equal((await get(`${service.url}/health?details`)).text, '{"status":"UP"}');
      assert.equal((await get(`${service.url}/health?verbose`)).text, 'health check passed\n');
    } finally {
      await service.close();
    }
  });

  it('shows details with the right bearer token only; a wrong token is no token', async () => {
    const service = await startTestApp({ details: 'token', token: TOKEN });
    try {
      const url = `${service.url}/health?details`;
      const right = await get(url, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.ok(JSON.parse(right.text).checks.database, 'details with the right token');
      const none = await get(url);
      const wrong = await get(url, { headers: { authorization: `Bearer ${TOKEN}x` } });
      const short = await get(url, { headers: { authorization: 'Bearer a' } });
      const basic = await get(url, { headers: { authorization: `Basic ${TOKEN}` } });
      for (const answer of [none, wrong, short, basic]) {
        assert.equal(answer.status, 200);
        assert.equal(answer.text, '{"status":"UP"}');
      }
    } finally {
      await service.close();
    }
  });
});

describe('health with a failing database', () => {
  it('names the database and its cause within one check interval, and lookups answer 503', async () => {
    const service = await startTestApp({ checkIntervalMs: 50 });
    try {
      await service.store.close(); // the store is closed underneath the running service
      const down = await waitFor(
        async () => {
          const answer = await get(`${service.url}/health`);
          return answer.status === 503 ? answer : undefined;
        },
        { timeoutMs: 2000, what: '/health to turn 503' },
      );
      // Anyone sees the fixed public cause; the store's own words only with details.
      assert.deepEqual(JSON.parse(down.text).checks.database, {
        status: 'DOWN',
        cause: 'the database cannot be read',
      });
      const detailed = JSON.parse((await get(`${service.url}/health?details`)).text);
      assert.equal(detailed.checks.database.detail, 'the account store is closed');
      assert.equal((await get(`${service.url}/health/ready`)).status, 503);
      assert.equal(
        (await get(`${service.url}/health/live`)).status,
        200,
        'a database outage must not kill the container',
      );
      const lookup = await get(`${service.url}/accounts/10000`);
      assert.equal(lookup.status, 503);
      assert.match(JSON.parse(lookup.text).message, /database is unavailable/);
    } finally {
      await service.close();
    }
  });
});

describe('one probe for replacement, another for routing (HEALTH_REPLACE_AFTER_MS)', () => {
  it('/health/ready turns 503 at once on a database failure; /health only after it has lasted the set time', async (t) => {
    const replaceAfterMs = 1000;
    const seeded = new InMemoryAccountStore();
    await seeded.seed(seedAccounts(10));
    const faulty = new FaultyStore(seeded);
    const service = await startTestApp({
      store: faulty,
      testability: true,
      checkIntervalMs: 50,
      env: { HEALTH_REPLACE_AFTER_MS: String(replaceAfterMs) },
    });
    try {
      const failedAt = Date.now();
      faulty.setMode('fail');
      await waitFor(async () => (await get(`${service.url}/health/ready`)).status === 503, {
        timeoutMs: 500,
        what: '/health/ready to turn 503 within a few check intervals',
      });
      const readyAfterMs = Date.now() - failedAt;
      assert.equal((await get(`${service.url}/health`)).status, 200, 'the replacement probe waits');
      const down = await waitFor(
        async () => {
          const answer = await get(`${service.url}/health`);
          return answer.status === 503 && answer;
        },
        { timeoutMs: replaceAfterMs + 2000, what: '/health to turn 503 once the failure has lasted long enough' },
      );
      const healthAfterMs = Date.now() - failedAt;
      assert.ok(healthAfterMs >= replaceAfterMs, `/health turned 503 after ${healthAfterMs} ms`);
      t.diagnostic(
        `ready 503 after ${readyAfterMs} ms, /health 503 after ${healthAfterMs} ms (T ${replaceAfterMs} ms, interval 50 ms)`,
      );
      assert.equal(JSON.parse(down.text).checks.database.cause, 'the database cannot be read');

      // The demo switch is not the database: /health follows it at once whatever the delay.
      faulty.setMode('ok');
      await waitFor(async () => (await get(`${service.url}/health`)).status === 200, { what: '/health to heal' });
      assert.equal((await get(`${service.url}/testability/healthy/false`)).status, 200);
      assert.equal((await get(`${service.url}/health`)).status, 503);
    } finally {
      await service.close();
    }
  });
});
