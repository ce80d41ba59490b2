// What every adapter must do, as one test body run against each real framework (node:http,
// Fastify, Express 4 and 5, Koa 2 and 3): the same routes, answers, hooks and watch stream.
// A framework's test file supplies `mount`: its app, with the adapter, a route of its own and an
// error handler that records what reaches it.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHealth } from '../../src/registry.js';
import type { AdapterHooks, AnsweredRequest, Health } from '../../src/types.js';
import { fetchUntilStatus, get, readEvents } from './http.js';

export const TOKEN = 'the-right-token-0123456789';
export const AUTH = { authorization: `Bearer ${TOKEN}` };

/** What the host's header hook returns: its own headers, and content headers the package must override. */
export const HOST_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Content-Type': 'text/html',
  'content-length': '1',
  'cache-control': 'public, max-age=60',
};

/** A framework's app with the adapter on it, listening on port 0. */
export interface Mounted {
  readonly base: string;
  /** Paths the app itself served (every request the adapter passed on). */
  readonly passedOn: readonly string[];
  /** What the app's own error handler was given. */
  readonly errors: readonly unknown[];
  close(): Promise<void>;
}

/** Builds the app: the adapter with these hooks, a route `/app` answering `app`, an error handler. */
export type Mount = (health: Health, hooks: AdapterHooks<{ readonly url?: string }>) => Promise<Mounted>;

/** A polled check that throws an error whose text must never reach a caller without permission. */
export const FAILING_DATABASE = {
  name: 'database',
  publicCause: 'the database cannot be read',
  intervalMs: 60_000,
  timeoutMs: 1000,
  run: () => {
    throw new TypeError("Cannot read properties of undefined (reading 'get') at /app/node_modules/lmdb/x.js");
  },
} as const;

export function contractHealth(): Health {
  return createHealth({
    checks: [FAILING_DATABASE, { name: 'started', kind: 'flag', initial: true }],
    views: [
      { name: 'ready', path: '/health/ready', checks: ['database', 'started'] },
      { name: 'live', path: '/health/live', checks: ['started'] },
    ],
    disclosure: { mode: 'token', token: TOKEN },
    serviceId: 'demo',
    watch: { maxSubscribers: 1, heartbeatMs: 60_000 },
  });
}

interface Fixture {
  readonly health: Health;
  readonly app: Mounted;
  readonly answered: AnsweredRequest[];
}

async function fixture(mount: Mount): Promise<Fixture> {
  const health = contractHealth();
  await health.start();
  const answered: AnsweredRequest[] = [];
  const app = await mount(health, {
    headers: (request) => ({ ...HOST_HEADERS, 'x-request-id': `id-${request.url}` }),
    onAnswered: (info) => answered.push(info),
  });
  return { health, app, answered };
}

async function release(f: Fixture): Promise<void> {
  f.health.close();
  await f.app.close();
}

export function describeAdapterContract(name: string, mount: Mount): void {
  describe(`${name}: the adapter contract`, () => {
    let f: Fixture;
    before(async () => {
      f = await fixture(mount);
    });
    after(() => release(f));

    it('views: the plain answer, the public cause only, ?verbose text, health+json', async () => {
      const live = await get(`${f.app.base}/health/live`);
      assert.equal(live.status, 200);
      assert.equal(live.text, '{"status":"UP"}');
      const ready = await get(`${f.app.base}/health/ready`);
      assert.equal(ready.status, 503);
      assert.deepEqual(ready.json(), {
        status: 'DOWN',
        checks: { database: { status: 'DOWN', cause: 'the database cannot be read' } },
      });
      const verbose = await get(`${f.app.base}/health/ready?verbose`);
      assert.match(verbose.text, /^\[-\]database failed: the database cannot be read$/m);
      assert.equal(verbose.headers.get('content-type'), 'text/plain; charset=utf-8');
      const ietf = await get(`${f.app.base}/health/live`, { headers: { accept: 'application/health+json' } });
      assert.equal(ietf.headers.get('content-type'), 'application/health+json; charset=utf-8');
      assert.equal(ietf.json().serviceId, 'demo');
    });

    it('?details: exception text with the token only', async () => {
      const anonymous = await get(`${f.app.base}/health/ready?details`);
      assert.doesNotMatch(anonymous.text, /Cannot read properties/, `no token: ${anonymous.text}`);
      const allowed = await get(`${f.app.base}/health/ready?details`, { headers: AUTH });
      assert.match(allowed.json().checks.database.detail, /^Cannot read properties/);
      assert.equal(allowed.json().checks.started.status, 'UP');
    });

    it('the checks routes need permission: 403, then the list and one check', async () => {
      assert.equal((await get(`${f.app.base}/health/checks`)).status, 403);
      assert.equal((await get(`${f.app.base}/health/checks/started`)).status, 403);
      assert.deepEqual((await get(`${f.app.base}/health/checks`, { headers: AUTH })).json(), {
        checks: ['database', 'started'],
      });
      const one = await get(`${f.app.base}/health/checks/started`, { headers: AUTH });
      assert.equal(one.status, 200);
      assert.equal(one.json().checks.started.status, 'UP');
    });

    it('methods: HEAD is the GET without a body, OPTIONS 204 with Allow, POST 405 with Allow', async () => {
      const head = await get(`${f.app.base}/health/ready`, { method: 'HEAD' });
      assert.equal(head.status, 503);
      assert.equal(head.text, '');
      const ready = await get(`${f.app.base}/health/ready`);
      assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(ready.text)), 'the GET length');
      for (const path of ['/health/live', '/health/checks/nope', '/health/watch']) {
        const options = await get(`${f.app.base}${path}`, { method: 'OPTIONS' });
        assert.equal(options.status, 204, `OPTIONS ${path}: ${options.text}`);
        assert.equal(options.headers.get('allow'), 'GET, HEAD, OPTIONS', `OPTIONS ${path}`);
        const post = await get(`${f.app.base}${path}`, { method: 'POST', body: '{}' });
        assert.equal(post.status, 405, `POST ${path}: ${post.text}`);
        assert.equal(post.headers.get('allow'), 'GET, HEAD, OPTIONS', `POST ${path}`);
        assert.equal(post.json().error, 'Method Not Allowed');
      }
    });

    it('bad query values are a clear 400 JSON, never a 500', async () => {
      const answer = await get(`${f.app.base}/health/live?verbose=maybe`);
      assert.equal(answer.status, 400);
      assert.match(answer.json().message, /\?verbose takes no value/);
    });

    it("the host's headers on every answer, the package's content headers win; onAnswered once each", async () => {
      f.answered.length = 0;
      for (const [path, status] of [
        ['/health/live', 200],
        ['/health/ready?verbose', 503],
        ['/health/checks/database', 403],
      ] as const) {
        const answer = await get(`${f.app.base}${path}`);
        assert.equal(answer.status, status, path);
        assert.equal(answer.headers.get('x-content-type-options'), 'nosniff', path);
        assert.equal(answer.headers.get('x-request-id'), `id-${path}`, path);
        assert.match(answer.headers.get('content-type')!, /^(application\/json|text\/plain); charset=utf-8$/, path);
        assert.equal(answer.headers.get('content-length'), String(Buffer.byteLength(answer.text)), path);
        assert.equal(answer.headers.get('cache-control'), 'no-store', path);
      }
      assert.deepEqual(
        f.answered.map(({ method, route, statusCode }) => `${method} ${route} ${statusCode}`),
        ['GET /health/live 200', 'GET /health/ready 503', 'GET /health/checks/:name 403'],
      );
    });

    it("other requests reach the app; the app's error handler sees no health request", async () => {
      const before = f.app.passedOn.length;
      const app = await get(`${f.app.base}/app`);
      assert.equal(app.text, 'app');
      const statuses: number[] = [];
      for (const path of ['/health/ready', '/health/live?verbose=maybe', '/health/checks/nope', '/health/watch']) {
        statuses.push((await get(`${f.app.base}${path}`)).status);
        statuses.push((await get(`${f.app.base}${path}`, { method: 'DELETE' })).status);
      }
      assert.deepEqual(statuses, [503, 405, 400, 405, 403, 405, 403, 405]);
      assert.deepEqual(f.app.passedOn.slice(before), ['/app'], 'only /app reached the app');
      assert.deepEqual(f.app.errors, [], "the app's error handler was not involved");
    });
  });

  describe(`${name}: a fault inside the package`, () => {
    it("answers a plain 503, and the app's error handler is not involved", async () => {
      const broken = {
        routes: ['/health/live'],
        answer: () => {
          throw new Error('bug');
        },
      } as unknown as Health;
      const app = await mount(broken, {});
      try {
        const answer = await get(`${app.base}/health/live`);
        assert.equal(answer.status, 503, answer.text);
        assert.equal(answer.json().message, 'the health answer could not be made');
        assert.deepEqual(app.errors, []);
      } finally {
        await app.close();
      }
    });
  });

  describe(`${name}: the watch stream`, () => {
    it('a snapshot, each change, and the close event; the host headers on the stream', async () => {
      const f = await fixture(mount);
      try {
        const stream = await fetch(`${f.app.base}/health/watch`, { headers: AUTH, signal: AbortSignal.timeout(5000) });
        assert.equal(stream.status, 200);
        assert.equal(stream.headers.get('content-type'), 'text/event-stream; charset=utf-8');
        assert.equal(stream.headers.get('x-content-type-options'), 'nosniff');
        const body = stream.body!;
        assert.match(await readEvents(body, (text) => text.includes('\n\n')), /event: snapshot\n.*"live":"UP"/);
        f.health.flag('started').set(false, 'restarting');
        assert.match(await readEvents(body, (text) => text.includes('event: view')), /"view":"live","from":"UP"/);
        f.health.close('shutting down');
        const last = await readEvents(body, () => false).catch((error: Error) => error.message);
        assert.match(last, /event: close\ndata: \{"reason":"shutting down"/);
      } finally {
        await release(f);
      }
    });

    it('a client that leaves frees its slot: the next watcher is accepted (maxSubscribers 1)', async () => {
      const f = await fixture(mount);
      try {
        const controller = new AbortController();
        const first = await fetch(`${f.app.base}/health/watch`, { headers: AUTH, signal: controller.signal });
        await readEvents(first.body!, (text) => text.includes('event: snapshot'));
        assert.equal((await get(`${f.app.base}/health/watch`, { headers: AUTH })).status, 503, 'the one slot is held');
        controller.abort();
        const next = new AbortController();
        // 200, not 503: the first client's slot was freed when it left.
        await fetchUntilStatus(`${f.app.base}/health/watch`, { headers: AUTH, signal: next.signal }, 200);
        assert.deepEqual(f.app.errors, [], "a watcher that leaves is no error of the app's");
        next.abort();
      } finally {
        await release(f);
      }
    });
  });
}
