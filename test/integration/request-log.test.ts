// The access log and the request id, over real HTTP on 127.0.0.1:0 with the pino output captured:
// one line per request, probes kept at debug, and the X-Request-Id round trip.

import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { request } from 'node:http';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { loadConfig } from '../../src/config.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { withDeadline } from '../helpers/deadline.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const INFO = 30;
const DEBUG = 20;

type LogLine = Record<string, unknown>;

/** A pino logger at the given level whose JSON lines are kept in memory. */
function capturingLogger(level: 'debug' | 'info'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as LogLine);
      callback();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

/** Access log lines are the ones that carry a route. */
const accessLines = (lines: readonly LogLine[]) => lines.filter((line) => 'route' in line);

/** One GET with exactly these headers (fetch would refuse some of the odd values sent here). */
function getWithHeaders(
  url: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; requestId: string | undefined }> {
  const { hostname, port } = new URL(url);
  const answered = new Promise<{ status: number; requestId: string | undefined }>((resolve, reject) => {
    const req = request({ host: hostname, port, path, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => {
        const id = res.headers['x-request-id'];
        resolve({ status: res.statusCode ?? 0, requestId: Array.isArray(id) ? id.join(',') : id });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  return withDeadline(answered, 10_000, `the answer to GET ${path}`);
}

async function get(url: string, path: string): Promise<Response> {
  const response = await fetch(`${url}${path}`);
  await response.arrayBuffer();
  return response;
}

describe('access log', () => {
  let service: TestApp;
  let lines: LogLine[];
  before(async () => {
    const captured = capturingLogger('debug');
    lines = captured.lines;
    service = await startTestApp({ logger: captured.logger, metrics: true, testability: true });
  });
  after(() => service.close());

  test('each request is logged once at info with method, route template, URL, status, duration and request id', async () => {
    const before = lines.length;
    const response = await get(service.url, '/accounts/10000');
    const notFound = await get(service.url, '/no/such/page');
    const logged = accessLines(lines.slice(before));
    assert.equal(logged.length, 2, JSON.stringify(logged));
    const [account, unmatched] = logged as [LogLine, LogLine];
    assert.equal(account.level, INFO);
    assert.equal(account.method, 'GET');
    assert.equal(account.route, '/accounts/:accountId');
    assert.equal(account.url, '/accounts/10000');
    assert.equal(account.statusCode, 200);
    assert.equal(typeof account.durationMs, 'number');
    assert.ok((account.durationMs as number) >= 0);
    assert.equal(account.requestId, response.headers.get('x-request-id'));
    assert.match(String(account.msg), /^GET \/accounts\/10000 200 [0-9.]+ ms$/);

    assert.equal(unmatched.level, INFO);
    assert.equal(unmatched.route, 'unmatched');
    assert.equal(unmatched.url, '/no/such/page');
    assert.equal(unmatched.statusCode, 404);
    assert.equal(unmatched.requestId, notFound.headers.get('x-request-id'));
    assert.notEqual(unmatched.requestId, account.requestId);
  });

  test('a health probe is logged at debug with the request id its answer carried, fresh or its own', async () => {
    const before = lines.length;
    const fresh = await get(service.url, '/health');
    const own = await getWithHeaders(service.url, '/health', { 'x-request-id': 'probe-42' });
    assert.equal(own.requestId, 'probe-42');
    const logged = accessLines(lines.slice(before)).map((line) => [line.level, line.route, line.requestId]);
    assert.deepEqual(logged, [
      [DEBUG, '/health', fresh.headers.get('x-request-id')],
      [DEBUG, '/health', 'probe-42'],
    ]);
  });

  test('a flood of health probes and scrapes logs nothing at info, only debug lines', async () => {
    const before = lines.length;
    const paths = [
      '/health',
      '/health/live',
      '/health/ready',
      '/health/started',
      '/health/checks/database',
      '/metrics',
    ];
    const rounds = 20;
    for (let i = 0; i < rounds; i++) await Promise.all(paths.map((path) => get(service.url, path)));
    const logged = lines.slice(before);
    // Lines of these requests carry their request id; a health transition meanwhile would not.
    const info = logged.filter((line) => 'requestId' in line && (line.level as number) >= INFO);
    assert.deepEqual(info, [], 'probes must not reach an info log');
    const debug = accessLines(logged).filter((line) => line.level === DEBUG);
    assert.equal(debug.length, rounds * paths.length, 'each probe is still logged once, at debug');
  });

  test('answers made outside Fastify are logged and counted too: an unsupported Expect, an absolute-form probe', async () => {
    const before = lines.length;
    const expectation = await getWithHeaders(service.url, '/accounts/10000', { expect: 'teapot' });
    assert.equal(expectation.status, 417);
    const probe = await getWithHeaders(service.url, 'http://probe.example/health/live', {});
    assert.equal(probe.status, 200);
    const logged = accessLines(lines.slice(before)).map((line) => [
      line.level,
      line.statusCode,
      line.url,
      line.requestId,
    ]);
    assert.deepEqual(logged, [
      [INFO, 417, '/accounts/10000', expectation.requestId],
      // Logged in origin form, as Fastify's own routes log an absolute-form target.
      [DEBUG, 200, '/health/live', probe.requestId],
    ]);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    assert.match(metrics, /http_request_duration_seconds_count\{[^}]*status_code="417"[^}]*\} 1/, 'the 417 is counted');
  });

  test("every log line of a request carries that request's id, the client's when it is sane", async () => {
    const before = lines.length;
    const id = 'trace-42.retry:1_a-B';
    const response = await getWithHeaders(service.url, '/testability/healthy/false', { 'x-request-id': id });
    assert.equal(response.status, 200);
    assert.equal(response.requestId, id);
    const ofRequest = lines.slice(before).filter((line) => line.requestId === id);
    const messages = ofRequest.map((line) => String(line.msg));
    assert.ok(
      messages.some((msg) => msg.includes('testability switch set')),
      JSON.stringify(ofRequest),
    );
    assert.ok(
      messages.some((msg) => msg.startsWith('GET /testability/healthy/false 200')),
      JSON.stringify(ofRequest),
    );
    await get(service.url, '/testability/healthy/true');
  });
});

describe('request id', () => {
  let service: TestApp;
  before(async () => {
    service = await startTestApp();
  });
  after(() => service.close());

  test('a sane X-Request-Id is echoed back as it is', async () => {
    for (const id of ['a', 'abc-123', '550e8400-e29b-41d4-a716-446655440000', 'svc.web:req_17', 'x'.repeat(128)]) {
      const response = await getWithHeaders(service.url, '/accounts/10000', { 'x-request-id': id });
      assert.equal(response.status, 200);
      assert.equal(response.requestId, id);
    }
  });

  test('an insane X-Request-Id is replaced by a fresh UUID, not cleaned up', async () => {
    const insane = ['x'.repeat(129), 'has space', 'a/b', '<script>', '"quoted"', 'caf\u00e9', '', 'a,b'];
    const seen = new Set<string>();
    for (const id of insane) {
      const response = await getWithHeaders(service.url, '/accounts/10000', { 'x-request-id': id });
      assert.equal(response.status, 200, `status for ${JSON.stringify(id)}`);
      assert.match(response.requestId ?? '', UUID, `id for ${JSON.stringify(id)}`);
      seen.add(response.requestId!);
    }
    assert.equal(seen.size, insane.length, 'each request gets its own id');
  });

  test('without X-Request-Id each response carries a generated UUID, on errors too', async () => {
    const ids = new Set<string>();
    for (const path of ['/accounts/10000', '/accounts/99999', '/accounts/x', '/nowhere', '/health']) {
      const response = await get(service.url, path);
      const id = response.headers.get('x-request-id') ?? '';
      assert.match(id, UUID, `id for ${path}`);
      ids.add(id);
    }
    assert.equal(ids.size, 5);
  });

  test('a URL fastify cannot even route (bad percent-encoding) still gets an id and a log line', async () => {
    const captured = capturingLogger('info');
    const app = await startTestApp({ logger: captured.logger });
    try {
      const response = await getWithHeaders(app.url, '/accounts/%zz', { 'x-request-id': 'bad-url-1' });
      assert.equal(response.status, 400);
      assert.equal(response.requestId, 'bad-url-1');
      const logged = accessLines(captured.lines);
      assert.equal(logged.length, 1, JSON.stringify(captured.lines));
      assert.equal(logged[0]!.route, 'unmatched');
      assert.equal(logged[0]!.statusCode, 400);
      assert.equal(logged[0]!.requestId, 'bad-url-1');
    } finally {
      await app.close();
    }
  });
});

describe('ACCESS_LOG=off', () => {
  test('no access lines, while request ids still go back to the client', async () => {
    const captured = capturingLogger('debug');
    const service = await startTestApp({ logger: captured.logger, accessLog: false });
    try {
      for (const path of ['/accounts/10000', '/nowhere', '/health']) {
        const response = await get(service.url, path);
        assert.match(response.headers.get('x-request-id') ?? '', UUID);
      }
      assert.deepEqual(accessLines(captured.lines), []);
    } finally {
      await service.close();
    }
  });

  test('is read from the environment: on by default, on|off', () => {
    const base = { DB_PATH: 'data/accounts.mdb' };
    assert.equal(loadConfig(base).log.access, true);
    assert.equal(loadConfig({ ...base, ACCESS_LOG: 'off' }).log.access, false);
    assert.equal(loadConfig({ ...base, ACCESS_LOG: 'on' }).log.access, true);
    assert.throws(() => loadConfig({ ...base, ACCESS_LOG: 'loud' }), /ACCESS_LOG must be on or off \(got "loud"\)/);
  });
});
