// The node:http adapter on a real server: routes answered before the wrapped listener, the one
// disclosure gate on every route and query, ?exclude, q-values, errors, hooks and the watch stream.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHealth } from '../src/registry.js';
import { withHealth } from '../src/node-http.js';
import type { AdapterHooks, AnsweredRequest, Health, HealthOptions } from '../src/types.js';
import { describeAdapterContract, FAILING_DATABASE } from './helpers/adapter-contract.js';
import { assertOwnHeaders, close, exchange, get, listen, readEvents } from './helpers/http.js';

const TOKEN = 'the-right-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };

interface Fixture {
  readonly base: string;
  readonly health: Health;
  readonly server: Server;
  readonly passedOn: string[];
  readonly answered: AnsweredRequest[];
  /** The headers each onAnswered call was given, in order. */
  readonly answeredHeaders: (Readonly<Record<string, string>> | undefined)[];
}

async function start(overrides: Partial<HealthOptions> = {}): Promise<Fixture> {
  const health = createHealth({
    checks: [
      FAILING_DATABASE,
      { name: 'started', kind: 'flag', initial: true },
      { name: 'shutdown', kind: 'flag', initial: true, publicCause: 'shutting down' },
    ],
    views: [
      { name: 'ready', path: '/health/ready', checks: ['database', 'started', 'shutdown'] },
      { name: 'live', path: '/health/live', checks: ['started'] },
    ],
    disclosure: { mode: 'token', token: TOKEN },
    serviceId: 'demo',
    watch: { maxSubscribers: 1, heartbeatMs: 60_000 },
    ...overrides,
  });
  await health.start();
  const answered: AnsweredRequest[] = [];
  const answeredHeaders: (Readonly<Record<string, string>> | undefined)[] = [];
  const { base, server, passedOn } = await behindWithHealth(health, {
    headers: (request) => ({ 'x-content-type-options': 'nosniff', 'x-request-id': `id-${request.url}` }),
    onAnswered: (info, _request, headers) => {
      answered.push(info);
      answeredHeaders.push(headers);
    },
  });
  return { base, health, server, passedOn, answered, answeredHeaders };
}

/** `health` in front of a listener that answers `app` and records each URL it is given, on a real port. */
async function behindWithHealth(health: Health, hooks: AdapterHooks<IncomingMessage>) {
  const passedOn: string[] = [];
  const listener = (request: IncomingMessage, response: ServerResponse) => {
    passedOn.push(request.url ?? '');
    response.end('app');
  };
  const server = createServer(withHealth(health, listener, hooks));
  return { base: await listen(server), server, passedOn };
}

describe('node:http adapter', () => {
  let f: Fixture;
  before(async () => {
    f = await start();
  });
  after(async () => {
    f.health.close();
    await close(f.server);
  });

  it('answers health routes itself and passes every other request on', async () => {
    assert.equal((await get(`${f.base}/health/live`)).text, '{"status":"UP"}');
    assert.equal((await get(`${f.base}/accounts/1`)).text, 'app');
    assert.deepEqual(f.passedOn, ['/accounts/1']);
  });

  it('without permission names the failing check and its public cause, never the exception text', async () => {
    const asks = [
      ['', '*/*'],
      ['?verbose', '*/*'],
      ['?details', 'application/health+json'],
    ] as const;
    for (const [query, accept] of asks) {
      const answer = await get(`${f.base}/health/ready${query}`, { headers: { accept } });
      assert.equal(answer.status, 503);
      assert.match(answer.text, /database/);
      assert.match(answer.text, /the database cannot be read/);
      const what = `${query} ${accept}: ${answer.text}`;
      assert.doesNotMatch(answer.text, /Cannot read properties|node_modules|started/, what);
    }
  });

  it('with the token, details carry the exception text, passing checks and ISO times', async () => {
    const answer = await get(`${f.base}/health/ready?details`, { headers: AUTH });
    const body = answer.json();
    assert.equal(body.checks.database.detail.startsWith('Cannot read properties'), true);
    assert.equal(body.checks.started.status, 'UP');
    assert.match(body.checks.started.since, /^\d{4}-\d\d-\d\dT/);
    assert.ok(Array.isArray(body.history));
    const wrongToken = { authorization: 'Bearer wrong-token-0123456789' };
    const wrong = await get(`${f.base}/health/ready?details`, { headers: wrongToken });
    assert.doesNotMatch(wrong.text, /Cannot read/);
  });

  it('the per-check route and the list of names need permission: 403 with a clear JSON message', async () => {
    for (const path of ['/health/checks/database', '/health/checks/nope', '/health/checks']) {
      const answer = await get(`${f.base}${path}`);
      assert.equal(answer.status, 403, path);
      const body = answer.json();
      assert.deepEqual(Object.keys(body), ['statusCode', 'error', 'message']);
      assert.match(body.message, /needs the health details permission/);
      assert.doesNotMatch(answer.text, /database|started/);
    }
  });

  it('with permission: one check alone, and a 404 for an unknown name that lists the names', async () => {
    const one = await get(`${f.base}/health/checks/started`, { headers: AUTH });
    assert.equal(one.status, 200);
    assert.equal(one.json().checks.started.status, 'UP');
    const unknown = await get(`${f.base}/health/checks/nope`, { headers: AUTH });
    assert.equal(unknown.status, 404);
    assert.match(unknown.json().message, /no health check named "nope"; there are: database, started, shutdown/);
  });

  it('?exclude (with permission) is marked in every format', async () => {
    const json = await get(`${f.base}/health/ready?exclude=database`, { headers: AUTH });
    assert.equal(json.status, 200);
    assert.deepEqual(json.json(), { status: 'UP', checks: {}, excluded: ['database'] });
    const text = await get(`${f.base}/health/ready?exclude=database&verbose`, { headers: AUTH });
    assert.match(text.text, /^\[\+\]database excluded: ok$/m);
    const accept = { accept: 'application/health+json', ...AUTH };
    const ietf = await get(`${f.base}/health/ready?exclude=database`, { headers: accept });
    assert.deepEqual(ietf.json().notes, ['database excluded']);
    assert.equal(ietf.json().status, 'pass');
  });

  it("?exclude needs permission; with it, an unknown name is a 400 that lists the view's checks", async () => {
    const anonymous = await get(`${f.base}/health/ready?exclude=database,nope`);
    assert.equal(anonymous.status, 403);
    assert.match(anonymous.json().message, /\?exclude: this needs the health details permission/);
    const allowed = await get(`${f.base}/health/ready?exclude=nope&exclude=database`, { headers: AUTH });
    assert.equal(allowed.status, 400);
    assert.match(allowed.json().message, /: "nope"; its checks are: database, started, shutdown$/);
  });

  it('bad query values are a clear 400, never a 500', async () => {
    const answer = await get(`${f.base}/health/live?verbose=maybe`);
    assert.equal(answer.status, 400);
    assert.deepEqual(answer.json(), {
      statusCode: 400,
      error: 'Bad Request',
      message: '?verbose takes no value, true, 1, false or 0 (got "maybe")',
    });
    assert.equal((await get(`${f.base}/health/checks/%E0%A4%A`, { headers: AUTH })).status, 400);
  });

  it('GET and HEAD answer, OPTIONS is 204 with Allow, any other method 405 with Allow', async () => {
    for (const path of ['/health/live', '/health/checks/database', '/health/watch']) {
      const answer = await get(`${f.base}${path}`, { method: 'POST' });
      assert.equal(answer.status, 405, path);
      assert.equal(answer.headers.get('allow'), 'GET, HEAD, OPTIONS');
      // Before the gate: a CORS preflight carries no credentials.
      const options = await get(`${f.base}${path}`, { method: 'OPTIONS' });
      assert.equal(options.status, 204, `OPTIONS ${path}: ${options.text}`);
      assert.equal(options.headers.get('allow'), 'GET, HEAD, OPTIONS');
      assert.equal(options.text, '');
    }
    const head = await get(`${f.base}/health/live`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assert.equal(head.headers.get('content-length'), String('{"status":"UP"}'.length));
  });

  it('Accept honours q-values: health+json;q=0 gets the plain JSON', async () => {
    const refused = await get(`${f.base}/health/live`, { headers: { accept: 'application/health+json;q=0' } });
    assert.equal(refused.headers.get('content-type'), 'application/json; charset=utf-8');
    const wanted = await get(`${f.base}/health/live`, { headers: { accept: 'application/health+json' } });
    assert.equal(wanted.headers.get('content-type'), 'application/health+json; charset=utf-8');
    assert.equal(wanted.json().serviceId, 'demo');
  });

  it('answers a request target in absolute form (RFC 9112 §3.2.2) as its path', async () => {
    const request =
      'GET http://example.com/health/live?verbose HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n';
    const answer = await exchange(f.base, request);
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/, answer);
    assert.match(answer, /\r\n\r\nlive check passed\n$/, answer);
  });

  it('the host adds its headers to every health answer and observes each one with its route template', async () => {
    f.answered.length = 0;
    f.answeredHeaders.length = 0;
    const answer = await get(`${f.base}/health/checks/database?x=1`, { headers: AUTH });
    assert.equal(answer.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(answer.headers.get('x-request-id'), 'id-/health/checks/database?x=1');
    assert.equal(answer.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(f.answered.length, 1);
    assert.deepEqual(
      { ...f.answered[0], durationMs: 0 },
      {
        method: 'GET',
        route: '/health/checks/:name',
        statusCode: 503,
        durationMs: 0,
      },
    );
    // The headers the hook gave this answer, so the host needs no map from request to request id.
    assert.equal(f.answeredHeaders[0]?.['x-request-id'], 'id-/health/checks/database?x=1');
  });
});

describe('node:http adapter: the watch stream', () => {
  it('needs permission; HEAD answers without a stream and holds no slot; a full hub is a 503', async () => {
    const f = await start();
    try {
      assert.equal((await get(`${f.base}/health/watch`)).status, 403);
      const head = await get(`${f.base}/health/watch`, { method: 'HEAD', headers: AUTH });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      const controller = new AbortController();
      const stream = await fetch(`${f.base}/health/watch`, { headers: AUTH, signal: controller.signal });
      assert.equal(stream.status, 200, 'the HEAD held no slot of the one there is');
      await readEvents(stream.body!, (text) => text.includes('event: snapshot'));
      const full = await get(`${f.base}/health/watch`, { headers: AUTH });
      assert.equal(full.status, 503);
      assert.match(full.json().message, /too many health watchers/);
      controller.abort();
    } finally {
      f.health.close();
      await close(f.server);
    }
  });

  it('a snapshot, then each transition as it happens, then a final event when health closes', async () => {
    const f = await start();
    try {
      const stream = await fetch(`${f.base}/health/watch`, { headers: AUTH, signal: AbortSignal.timeout(5000) });
      const body = stream.body!;
      const snapshot = await readEvents(body, (text) => text.includes('\n\n'));
      const data = JSON.parse(/data: (.*)/.exec(snapshot)![1]!);
      assert.equal(data.views.live, 'UP');
      assert.match(data.at, /^\d{4}-\d\d-\d\dT.*Z$/);
      f.health.flag('started').set(false, 'restarting');
      const events = await readEvents(body, (text) => text.includes('event: view'));
      assert.match(events, /event: check\ndata: \{"type":"check","check":"started","from":"UP","to":"DOWN"/);
      assert.match(events, /"view":"live","from":"UP","to":"DOWN"/);
      f.health.close('shutting down');
      const last = await readEvents(body, () => false).catch((error: Error) => error.message);
      assert.match(last, /event: close\ndata: \{"reason":"shutting down"/);
    } finally {
      f.health.close();
      await close(f.server);
    }
  });
});

describe("node:http adapter: the host's header hook", () => {
  it('cannot replace the content type, length or cache rule of a health answer', async () => {
    const health = createHealth({
      checks: [{ name: 'started', kind: 'flag', initial: true }],
      views: [{ name: 'live', path: '/health/live', checks: ['started'] }],
    });
    const hostHeaders = { 'content-type': 'text/html', 'content-length': '1', 'cache-control': 'max-age=600' };
    const server = createServer(
      withHealth(health, (_request, response) => response.end(), { headers: () => hostHeaders }),
    );
    const base = await listen(server);
    try {
      assertOwnHeaders(await get(`${base}/health/live`), '{"status":"UP"}');
    } finally {
      health.close();
      await close(server);
    }
  });
});

describeAdapterContract('node:http (withHealth)', async (health, hooks) => {
  const { base, server, passedOn } = await behindWithHealth(health, hooks);
  // node:http has no error handler of its own: nothing can reach one.
  return { base, passedOn, errors: [], close: () => close(server) };
});
