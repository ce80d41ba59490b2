// Security promises a user would notice: the testability routes do not exist unless enabled (and
// production refuses them without the override); health details stay behind the configured
// permission and the token never reaches a log; every answer carries safe headers; no error body
// shows a stack trace, an internal path or the data directory.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LmdbAccountStore } from '../../src/accounts/lmdb-account-store.js';
import { seedAccounts } from '../../src/accounts/seed.js';
import { TESTABILITY_PRODUCTION_OVERRIDE } from '../../src/config.js';
import { FaultyStore, INTERNAL_PATH } from '../helpers/faulty-store.js';
import { startService, startServiceRaw, type ServiceProcess } from '../helpers/service-process.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';
import { leaksIn, openRawConnection, parseResponses, rawExchange, type RawResponse } from './support.js';
import { withDeadline } from '../helpers/deadline.js';

const running: ServiceProcess[] = [];
after(async () => {
  await Promise.all(running.map((service) => service.cleanup()));
});

async function start(env: Record<string, string>): Promise<ServiceProcess> {
  // In production /metrics has a port of its own, by default the fixed 9100: any free one here.
  const service = await startService({ env: env.NODE_ENV === 'production' ? { METRICS_PORT: '0', ...env } : env });
  running.push(service);
  return service;
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

describe('the testability routes', () => {
  it('do not exist unless enabled: 404 for GET and PUT, and the service stays healthy', async () => {
    const service = await startTestApp();
    try {
      for (const method of ['GET', 'PUT']) {
        for (const state of ['false', '0', 'F']) {
          const response = await fetch(`${service.url}/testability/healthy/${state}`, { method });
          assert.equal(response.status, 404, `${method} /testability/healthy/${state}`);
          assert.equal(((await response.json()) as { statusCode: number }).statusCode, 404);
        }
      }
      for (const path of ['/health', '/health/live', '/health/ready']) {
        assert.equal((await fetch(`${service.url}${path}`)).status, 200, `${path} after the attempts`);
      }
    } finally {
      await service.close();
    }
  });

  it('cannot be enabled with NODE_ENV=production without the override: exit 1 with a clear message, nothing listening', async () => {
    const service = startServiceRaw({ env: { NODE_ENV: 'production', TESTABILITY_ENABLED: 'true' } });
    try {
      assert.equal(await withDeadline(service.exited, 15_000, 'the refused service to exit'), 1);
      assert.equal(service.url(), undefined, 'it never listened');
      assert.match(service.stderr(), /TESTABILITY_ENABLED=true is refused with NODE_ENV=production/);
      assert.match(service.stderr(), new RegExp(`Set ${TESTABILITY_PRODUCTION_OVERRIDE}=true`));
    } finally {
      await service.cleanup();
    }
  });

  it('with the override, starts in production, logs a warning, and the switch works', async () => {
    const service = await start({
      NODE_ENV: 'production',
      TESTABILITY_ENABLED: 'true',
      [TESTABILITY_PRODUCTION_OVERRIDE]: 'true',
    });
    const warning = service.logs.find(
      (line) => line.level === 40 && /testability routes are enabled/.test(String(line.msg)),
    );
    assert.ok(warning, `a warning about the testability routes; logs: ${JSON.stringify(service.logs)}`);
    assert.equal((await fetch(`${service.url}/testability/healthy/false`, { method: 'PUT' })).status, 200);
    assert.equal((await fetch(`${service.url}/health`)).status, 503, 'the switch really is live');
  });
});

describe('health details and the token (built service, every log line captured)', () => {
  // Random per run, so finding it anywhere in the output can only mean it leaked.
  const token = `tok-${randomBytes(24).toString('hex')}`;
  let service: ServiceProcess;

  before(async () => {
    // trace: the most the service ever logs, so a leak at any level shows.
    service = await start({ HEALTH_DETAILS: 'token', HEALTH_TOKEN: token, LOG_LEVEL: 'trace' });
  });

  async function body(path: string, authorization?: string): Promise<{ status: number; text: string }> {
    const response = await fetch(
      `${service.url}${path}`,
      authorization === undefined ? {} : { headers: { authorization } },
    );
    return { status: response.status, text: await response.text() };
  }

  it('shows details only with the right token; a wrong token gets exactly the no-token answer', async () => {
    const wrongs = [
      `Bearer ${token}x`,
      `Bearer ${token.slice(0, -1)}`,
      `Bearer ${token.toUpperCase()}`,
      `Basic ${token}`,
      token,
      'Bearer ',
      `Bearer ${'x'.repeat(4000)}`,
    ];
    for (const path of [
      '/health?details',
      '/health?verbose',
      '/health/ready?details',
      '/health/checks/database?details',
    ]) {
      const none = await body(path);
      const right = await body(path, `Bearer ${token}`);
      assert.notEqual(right.text, none.text, `${path}: the right token shows more`);
      assert.match(right.text, /durationMs|\[\+\]database ok|"lastRun"/, `${path}: details with the right token`);
      for (const wrong of wrongs) {
        assert.deepEqual(await body(path, wrong), none, `${path} with a wrong token (${wrong.slice(0, 20)}...)`);
      }
    }
  });

  it('never writes the token to stdout or stderr, even at LOG_LEVEL=trace, even when a client sends it in a malformed request', async (t) => {
    // The token where clients send it (the Authorization header), on every kind of answer, and in the raw
    // bytes of requests the HTTP parser rejects (which a careless error log would dump). The URL is not
    // a place for secrets: the access log records it, as access logs do.
    for (const path of [
      '/health',
      '/health?details',
      '/health/ready?verbose',
      '/accounts/10000',
      '/accounts/x',
      '/nothing',
    ]) {
      for (const authorization of [`Bearer ${token}`, `Bearer ${token}x`, `Basic ${token}`])
        await body(path, authorization);
    }
    const port = portOf(service.url);
    await rawExchange(port, `GET /health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nBad Header\r\n\r\n`);
    await rawExchange(
      port,
      `GET /health HTTP/1.1\r\nAuthorization: Bearer ${token}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    await rawExchange(port, `BREW /health HTTP/1.1\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    assert.equal(await service.stop('SIGTERM'), 0);

    const output = `${JSON.stringify(service.logs)}\n${service.stderr()}`;
    assert.ok(service.logs.length > 10, 'there was output to search');
    assert.ok(!output.includes(token), 'the token appears in the output as text');
    // pino writes a Buffer as its byte values: look for the token's bytes too.
    assert.ok(!output.includes([...Buffer.from(token)].join(',')), 'the token appears in the output as bytes');
    assert.ok(!output.includes(Buffer.from(token).toString('base64')), 'the token appears in the output as base64');
    t.diagnostic(`searched ${service.logs.length} log lines and ${service.stderr().length} bytes of stderr: no token`);
  });
});

describe('production defaults hide health details', () => {
  it('NODE_ENV=production: /health?details shows no details, with or without a bearer header', async () => {
    const service = await start({ NODE_ENV: 'production' });
    for (const authorization of [undefined, 'Bearer anything-at-all-1234567890']) {
      const init = authorization === undefined ? {} : { headers: { authorization } };
      const response = await fetch(`${service.url}/health?details`, init);
      assert.equal(response.status, 200);
      assert.equal(await response.text(), '{"status":"UP"}');
      const verbose = await fetch(`${service.url}/health?verbose`, init);
      assert.equal(await verbose.text(), 'health check passed\n');
    }
  });
});

describe('safe headers and error bodies, on success and on every kind of error', () => {
  let dir: string;
  let faulty: FaultyStore;
  let service: TestApp;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'accountservice-security-'));
    const lmdb = LmdbAccountStore.open(join(dir, 'accounts.mdb'));
    await lmdb.seed(seedAccounts(100));
    faulty = new FaultyStore(lmdb);
    // details 'never', as in production: a client sees only what any client may see.
    service = await startTestApp({ store: faulty, details: 'never', checkIntervalMs: 50, checkTimeoutMs: 200 });
  });

  after(async () => {
    await service.close();
    await faulty.close();
    rmSync(dir, { recursive: true, force: true });
  });

  interface Case {
    readonly name: string;
    readonly expect: number;
    readonly send: () => Promise<RawResponse>;
  }

  async function viaFetch(path: string, init: RequestInit = {}): Promise<RawResponse> {
    const response = await fetch(`${service.url}${path}`, init);
    return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
  }

  async function viaSocket(bytes: string): Promise<RawResponse> {
    const exchange = await rawExchange(portOf(service.url), bytes);
    assert.equal(
      exchange.responses.length,
      1,
      `one response to ${JSON.stringify(bytes.slice(0, 60))}: ${exchange.received}`,
    );
    return exchange.responses[0]!;
  }

  /**
   * For a request whose body is broken: the server may answer the request first (404 for an
   * unknown route does not wait for the body) and then the broken body with a 400 and a close.
   * Every answer must pass the checks; the last is returned.
   */
  async function viaSocketLast(bytes: string, name: string): Promise<RawResponse> {
    const exchange = await rawExchange(portOf(service.url), bytes);
    assert.ok(exchange.responses.length >= 1 && exchange.responses.length <= 2, `${name}: ${exchange.received}`);
    for (const early of exchange.responses.slice(0, -1))
      check(`${name} (answered before the body)`, early, early.status);
    return exchange.responses[exchange.responses.length - 1]!;
  }

  function check(name: string, answer: RawResponse, expect: number): void {
    assert.equal(answer.status, expect, `${name}: ${answer.body}`);
    assert.equal(answer.headers['x-powered-by'], undefined, `${name}: no X-Powered-By`);
    assert.equal(answer.headers['x-content-type-options'], 'nosniff', `${name}: X-Content-Type-Options: nosniff`);
    if (answer.status >= 400) {
      assert.deepEqual(
        leaksIn(answer.body, [dir, INTERNAL_PATH, 'lmdb', 'invalid cursor']),
        [],
        `${name} leaks internals: ${answer.body}`,
      );
      const parsed = JSON.parse(answer.body) as { statusCode?: number };
      assert.equal(parsed.statusCode ?? answer.status, answer.status, `${name}: a JSON error body`);
      // Small whatever the request: an error quotes at most a cut of it (a 1200-digit id, say).
      assert.ok(
        answer.body.length <= 512,
        `${name}: an error body of ${answer.body.length} bytes: ${answer.body.slice(0, 300)}`,
      );
    }
  }

  const healthyCases: Case[] = [
    { name: 'an account', expect: 200, send: () => viaFetch('/accounts/10000') },
    { name: '/health', expect: 200, send: () => viaFetch('/health') },
    { name: 'HEAD /health', expect: 200, send: () => viaFetch('/health', { method: 'HEAD' }) },
    { name: 'no such account', expect: 404, send: () => viaFetch('/accounts/99999') },
    { name: 'an invalid account id', expect: 400, send: () => viaFetch('/accounts/abc') },
    { name: 'no such route', expect: 404, send: () => viaFetch('/nothing/here') },
    // A health route names the methods it answers: OPTIONS gets 204 with Allow (other methods 405).
    { name: 'OPTIONS', expect: 204, send: () => viaFetch('/health', { method: 'OPTIONS' }) },
    // details 'never' here: one check's state, and whether it exists, need the permission.
    { name: 'no such health check', expect: 403, send: () => viaFetch('/health/checks/nope') },
    { name: 'bad percent-encoding', expect: 400, send: () => viaFetch('/accounts/%zz') },
    { name: 'an id too long for the router', expect: 414, send: () => viaFetch(`/accounts/${'1'.repeat(1200)}`) },
    {
      name: 'a body too large',
      expect: 413,
      send: () =>
        viaFetch('/accounts/10000', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: 'x'.repeat(20_000),
        }),
    },
    {
      name: 'malformed JSON',
      expect: 400,
      send: () =>
        viaFetch('/accounts/10000', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' }),
    },
    { name: 'garbage on the socket', expect: 400, send: () => viaSocket('\x00\x01garbage\r\n\r\n') },
    {
      name: 'a bad header line',
      expect: 400,
      send: () => viaSocket('GET /health HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n'),
    },
    {
      name: 'invalid chunked encoding',
      expect: 400,
      send: () =>
        viaSocketLast(
          'POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
          'invalid chunked encoding',
        ),
    },
    {
      name: 'headers too large',
      expect: 431,
      send: () => viaSocket(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
    },
    // Node answers these itself unless told otherwise: a bare 417.
    {
      name: 'an unsupported Expect',
      expect: 417,
      send: () => viaSocket('GET /health HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n'),
    },
    // Upgrade is ignored (RFC 9110 7.8 allows it): the usual answer, never a 101.
    {
      name: 'an upgrade to websocket',
      expect: 200,
      send: () =>
        viaSocket(
          'GET /health HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n',
        ),
    },
  ];

  it('a healthy service: every answer has nosniff and no X-Powered-By; 4xx bodies are JSON without internals', async (t) => {
    for (const { name, expect, send } of healthyCases) check(name, await send(), expect);
    t.diagnostic(`${healthyCases.length} kinds of answer checked`);
  });

  /** /health once the database check has noticed the fault (within one check interval). */
  async function health503(): Promise<RawResponse> {
    return waitFor(
      async () => {
        const answer = await viaFetch('/health');
        return answer.status === 503 ? answer : undefined;
      },
      { timeoutMs: 2000, what: '/health 503' },
    );
  }

  async function healthyAgain(): Promise<void> {
    faulty.setMode('ok');
    await waitFor(async () => (await viaFetch('/health')).status === 200, {
      timeoutMs: 2000,
      what: '/health 200 again',
    });
  }

  it('a database outage: 503s are clean and carry nosniff', async () => {
    await healthyAgain();
    faulty.setMode('fail');
    try {
      check('a lookup', await viaFetch('/accounts/10000'), 503);
      check('/health', await health503(), 503);
    } finally {
      await healthyAgain();
    }
  });

  it('an unexpected internal error (a message and stack full of paths): 500 "internal error" and nothing more', async () => {
    await healthyAgain();
    faulty.setMode('internal-error');
    try {
      const lookup = await viaFetch('/accounts/10000');
      check('a lookup', lookup, 500);
      assert.deepEqual(JSON.parse(lookup.body), {
        statusCode: 500,
        error: 'Internal Server Error',
        message: 'internal error',
      });
      check('/health', await health503(), 503);
    } finally {
      await healthyAgain();
    }
  });

  it('an unsupported Expect gets the error body and the request id like any other error', async () => {
    const answer = await viaSocket(
      'GET /health HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nX-Request-Id: expect-1\r\n\r\n',
    );
    check('417', answer, 417);
    assert.equal(answer.headers['x-request-id'], 'expect-1');
    assert.equal(answer.headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(JSON.parse(answer.body), {
      statusCode: 417,
      error: 'Expectation Failed',
      message: 'the Expect header is not supported here; only 100-continue is',
    });
  });

  it("Expect: 100-continue: the interim 100 is Node's bare one (documented), the final answer carries the usual headers", async () => {
    const exchange = await rawExchange(
      portOf(service.url),
      'POST /nothing HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
    );
    assert.match(exchange.received, /^HTTP\/1\.1 100 Continue\r\n\r\n/, 'the interim answer has no header at all');
    assert.deepEqual(
      exchange.responses.map((response) => response.status),
      [100, 404],
    );
    check('the final answer after 100-continue', exchange.responses[1]!, 404);
  });
});

describe('the 503 of a server that is closing', () => {
  it('carries the usual headers (nosniff, the request id, Retry-After, Connection: close) and the usual error body', async () => {
    const service = await startTestApp({ testability: true });
    const { socket, received: receivedSoFar, closed } = await openRawConnection(portOf(service.url));
    // A request in flight (half its body sent) keeps this connection open while the server closes.
    socket.write(
      'PUT /testability/healthy/true HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\n12345',
    );
    assert.equal(
      (await fetch(`${service.url}/health`)).status,
      200,
      'a round trip: the half-sent request has been read',
    );
    const closing = service.close();
    try {
      await waitFor(() => !service.app.server.listening, { timeoutMs: 5000, what: 'the server to close' });
      // The rest of the body, and a request that reaches the server while it closes.
      // (An account: a probe of /health is answered by the health interceptor, with the truth.)
      socket.write('67890GET /accounts/10000 HTTP/1.1\r\nHost: x\r\nX-Request-Id: closing-1\r\n\r\n');
      await withDeadline(closed, 5000, 'the server to close the connection');
    } finally {
      socket.destroy();
      await withDeadline(closing, 10_000, 'the app to close');
    }
    const received = receivedSoFar();
    const responses = parseResponses(received);
    assert.deepEqual(
      responses.map((response) => response.status),
      [200, 503],
      received,
    );
    const answer = responses[1]!;
    assert.equal(answer.headers['x-content-type-options'], 'nosniff');
    assert.equal(answer.headers['x-request-id'], 'closing-1');
    assert.equal(answer.headers['retry-after'], '1');
    assert.equal(answer.headers.connection, 'close');
    assert.equal(answer.headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(JSON.parse(answer.body), {
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'the service is shutting down; try again',
    });
  });
});

describe('while the service drains', () => {
  it('every kind of answer says Connection: close, with nosniff and the request id (answer-headers.ts)', async (t) => {
    const service = await startTestApp();
    try {
      service.lifecycle.markShuttingDown();
      const port = portOf(service.url);
      // A route's answer, the health interceptor's, Fastify's early error, and Node's 417 (each
      // written by other code, all with the headers of answerHeaders).
      const kinds: ReadonlyArray<readonly [string, string, number]> = [
        ['an account', 'GET /accounts/10000 HTTP/1.1', 200],
        ['a health answer', 'GET /health/ready HTTP/1.1', 503],
        ['bad percent-encoding', 'GET /accounts/%zz HTTP/1.1', 400],
        ['an unsupported Expect', 'GET /accounts/10000 HTTP/1.1\r\nExpect: teapot', 417],
      ];
      for (const [what, head, status] of kinds) {
        const exchange = await rawExchange(port, `${head}\r\nHost: x\r\nX-Request-Id: draining-1\r\n\r\n`);
        const answer = exchange.responses[0];
        assert.ok(answer !== undefined, `${what}: an answer, got ${JSON.stringify(exchange.received)}`);
        assert.equal(answer.status, status, `${what}: ${answer.body}`);
        assert.equal(answer.headers.connection, 'close', `${what}: Connection: close while draining`);
        assert.equal(answer.headers['x-content-type-options'], 'nosniff', `${what}: nosniff`);
        assert.equal(answer.headers['x-request-id'], 'draining-1', `${what}: the request id`);
      }
      t.diagnostic(`${kinds.length} kinds of answer, each with Connection: close, nosniff and the request id`);
    } finally {
      await service.close();
    }
  });
});
