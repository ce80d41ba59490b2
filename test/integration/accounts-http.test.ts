// GET /accounts/:accountId over real HTTP on 127.0.0.1:0: statuses, headers and bodies for good ids,
// unknown ids, malformed ids (sent verbatim with node:http, since fetch would normalise the URL),
// wrong routes and methods, and store failures. Client input never yields a 5xx.

import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { StoreUnavailableError, type AccountStore } from '../../src/accounts/account-store.js';
import { LmdbAccountStore } from '../../src/accounts/lmdb-account-store.js';
import { seedAccounts } from '../../src/accounts/seed.js';
import { buildApp } from '../../src/http/app.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { withDeadline } from '../helpers/deadline.js';
import { seededAccountJson } from '../helpers/account-json.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const ACCOUNT_10000 = seededAccountJson(0);

interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One request with the path sent exactly as given, on its own connection. */
function send(baseUrl: string, path: string, method = 'GET'): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const answered = new Promise<RawResponse>((resolve, reject) => {
    const req = request({ host: hostname, port, method, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  return withDeadline(answered, 10_000, `the answer to ${method} ${path}`);
}

/** Writes raw bytes as a request and answers the status line and body; for bytes node:http refuses to send. */
function sendRawBytes(baseUrl: string, head: Buffer): Promise<{ statusLine: string; headers: string; body: string }> {
  const { hostname, port } = new URL(baseUrl);
  const answered = new Promise<{ statusLine: string; headers: string; body: string }>((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const headers = text.slice(0, split);
      resolve({ statusLine: headers.split('\r\n')[0] ?? '', headers, body: text.slice(split + 4) });
    });
    socket.write(head);
  });
  return withDeadline(answered, 10_000, 'the answer to raw request bytes');
}

interface ErrorJson {
  readonly statusCode: number;
  readonly error: string;
  readonly message: string;
}

/** Asserts a JSON error answer with that status and returns its parsed body. */
function assertJsonError(res: RawResponse, status: number, what: string): ErrorJson {
  assert.equal(res.status, status, `${what}: status (body ${res.body})`);
  assert.equal(res.headers['content-type'], JSON_TYPE, `${what}: content-type`);
  const body = JSON.parse(res.body) as ErrorJson;
  assert.equal(body.statusCode, status, `${what}: body statusCode`);
  assert.equal(typeof body.error, 'string', `${what}: body error`);
  assert.equal(typeof body.message, 'string', `${what}: body message`);
  assert.ok(body.message.length > 0, `${what}: empty message`);
  return body;
}

describe('GET /accounts/:accountId (in-memory store, 100 seeded accounts)', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(async () => {
    await app.close();
  });

  test('answers a seeded account with its exact JSON and safe headers', async () => {
    const res = await send(app.url, '/accounts/10000');
    assert.equal(res.status, 200);
    assert.equal(res.body, ACCOUNT_10000);
    assert.equal(res.headers['content-type'], JSON_TYPE);
    assert.equal(res.headers['content-length'], String(Buffer.byteLength(ACCOUNT_10000)));
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['x-powered-by'], undefined);
  });

  test('answers every seeded id 10000..10099 with its own name', async () => {
    for (let i = 0; i < 100; i++) {
      const id = String(10_000 + i);
      const res = await send(app.url, `/accounts/${id}`);
      assert.equal(res.status, 200, id);
      assert.equal(res.body, seededAccountJson(i), id);
    }
  });

  test('treats a query string and percent-encoded digits as the same id', async () => {
    for (const path of ['/accounts/10000?fields=all', '/accounts/1%30000']) {
      const res = await send(app.url, path);
      assert.equal(res.status, 200, path);
      assert.equal(res.body, ACCOUNT_10000, path);
    }
  });

  test('HEAD answers 200 with the headers of GET and no body', async () => {
    const res = await send(app.url, '/accounts/10000', 'HEAD');
    assert.equal(res.status, 200);
    assert.equal(res.body, '');
    assert.equal(res.headers['content-type'], JSON_TYPE);
    assert.equal(res.headers['content-length'], String(Buffer.byteLength(ACCOUNT_10000)));
  });

  test('answers 404 JSON naming the id for well-formed ids that do not exist', async () => {
    for (const id of ['10100', '0', '9999', '99999999999999999999']) {
      const res = await send(app.url, `/accounts/${id}`);
      const body = assertJsonError(res, 404, id);
      assert.equal(body.error, 'Not Found');
      assert.match(body.message, new RegExp(`account ${id} not found`), id);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', id);
    }
  });

  const malformed: ReadonlyArray<readonly [string, string]> = [
    ['letters', 'abc'],
    ['digits then letters', '10000abc'],
    ['negative', '-1'],
    ['plus sign', '+10000'],
    ['decimal', '1.5'],
    ['exponent', '1e4'],
    ['hex', '0x2710'],
    ['21 digits', '1'.repeat(21)],
    ['Arabic-Indic digits ١٠٠٠٠', '%D9%A1%D9%A0%D9%A0%D9%A0%D9%A0'],
    ['fullwidth digit １', '%EF%BC%91'],
    ['encoded NUL', '%00'],
    ['id then encoded NUL', '10000%00'],
    ['encoded slash', '%2F'],
    ['id with encoded slash', '10000%2F1'],
    ['encoded space', '%20'],
    ['id with leading space', '%2010000'],
    ['id with trailing space', '10000%20'],
    ['dot dot', '..'],
    ['encoded dot dot', '%2e%2e'],
    // An empty id is 400, not 404: the path has the shape of an account lookup, and the answer
    // tells the client what a valid id looks like.
    ['empty id', ''],
  ];
  for (const [what, id] of malformed) {
    test(`answers 400 JSON with the id rule for a malformed id: ${what}`, async () => {
      const res = await send(app.url, `/accounts/${id}`);
      const body = assertJsonError(res, 400, what);
      assert.equal(body.error, 'Bad Request');
      assert.match(body.message, /accountId must be 1 to 20 decimal digits, for example 10000/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
    });
  }

  for (const junk of ['%ZZ', '%', '%E0%A4%A', '%C0%AF', '%FF', '10000%']) {
    test(`answers 400 JSON for broken percent-encoding: ${junk}`, async () => {
      const res = await send(app.url, `/accounts/${junk}`);
      const body = assertJsonError(res, 400, junk);
      assert.match(body.message, /percent-encoding/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
    });
  }

  test('answers 400 JSON for raw non-ASCII bytes in the request line', async () => {
    const head = Buffer.concat([
      Buffer.from('GET /accounts/'),
      Buffer.from('١٠٠٠٠', 'utf8'),
      Buffer.from(' HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'),
    ]);
    const res = await sendRawBytes(app.url, head);
    assert.match(res.statusLine, /^HTTP\/1\.1 400 /);
    assert.match(res.headers, /^content-type: application\/json/im);
    assert.match(res.headers, /^x-content-type-options: nosniff/im);
    assert.equal((JSON.parse(res.body) as ErrorJson).statusCode, 400);
  });

  test('answers a 4xx JSON (not a 5xx) for an id far longer than any route allows', async () => {
    const res = await send(app.url, `/accounts/${'9'.repeat(2000)}`);
    assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}`);
    assertJsonError(res, res.status, 'very long id');
  });

  test('answers 404 JSON for /accounts and other unknown routes', async () => {
    for (const path of ['/accounts', '/accounts/10000/extra', '/accounts//10000', '/ACCOUNTS/10000', '/nope']) {
      const res = await send(app.url, path);
      const body = assertJsonError(res, 404, path);
      assert.equal(body.message, `no route for GET ${path}`, path);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', path);
    }
  });

  test('answers a 404 or 405 JSON for methods other than GET and HEAD', async () => {
    for (const method of ['POST', 'DELETE', 'PUT', 'PATCH']) {
      const res = await send(app.url, '/accounts/10000', method);
      assert.ok(res.status === 404 || res.status === 405, `${method}: status ${res.status}`);
      const body = assertJsonError(res, res.status, method);
      assert.match(body.message, new RegExp(method), method);
    }
  });
});

describe('GET /accounts/:accountId on a real LMDB store', () => {
  let dir: string;
  let store: LmdbAccountStore;
  let app: TestApp;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'accounts-http-lmdb-'));
    store = LmdbAccountStore.open(join(dir, 'accounts.mdb'));
    await store.seed(seedAccounts(100));
    app = await startTestApp({ store });
  });
  after(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('answers every seeded id with its exact JSON', async () => {
    for (let i = 0; i < 100; i++) {
      const id = String(10_000 + i);
      const res = await send(app.url, `/accounts/${id}`);
      assert.equal(res.status, 200, id);
      assert.equal(res.headers['content-type'], JSON_TYPE, id);
      assert.equal(res.body, seededAccountJson(i), id);
    }
  });

  test('answers 404 JSON for an unknown id and 400 JSON for a malformed one', async () => {
    assertJsonError(await send(app.url, '/accounts/10100'), 404, '10100');
    assertJsonError(await send(app.url, '/accounts/abc'), 400, 'abc');
  });

  // Runs last in this group: it closes the store under the running app.
  test('answers 503 JSON with retry-after once the database is closed', async () => {
    await store.close();
    const res = await send(app.url, '/accounts/10000');
    const body = assertJsonError(res, 503, 'closed store');
    assert.equal(res.headers['retry-after'], '1');
    assert.doesNotMatch(body.message, /lmdb|closed|transaction/i);
  });
});

/**
 * A store whose reads all fail with the given error, by rejecting (a store that waits) or by throwing
 * at once (a synchronous one, as LMDB); check() passes so only the route sees it.
 */
function failingStore(fail: () => never, how: 'rejects' | 'throws' = 'rejects'): AccountStore {
  return {
    getAccountJson: how === 'rejects' ? async () => fail() : () => fail(),
    seed: async (seed) => ({ seeded: seed.count, written: seed.count, total: seed.count }),
    count: async () => 0,
    check: async () => {},
    close: async () => {},
  };
}

/** A pino logger that keeps its JSON lines in memory. */
function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  const logger: Logger = pino({ level: 'info' }, stream);
  return { logger, lines };
}

for (const how of ['rejects', 'throws'] as const) {
  describe(`store failures seen over HTTP (the store's read ${how})`, () => {
    test('a store that is unavailable answers 503 JSON with retry-after and no internals', async () => {
      const app = await startTestApp({
        store: failingStore(() => {
          throw new StoreUnavailableError('MDB_PANIC at /var/lib/secret/accounts.mdb');
        }, how),
      });
      try {
        const res = await send(app.url, '/accounts/10000');
        const body = assertJsonError(res, 503, 'unavailable store');
        assert.equal(body.error, 'Service Unavailable');
        assert.equal(res.headers['retry-after'], '1');
        assert.doesNotMatch(res.body, /MDB_PANIC|secret/);
      } finally {
        await app.close();
      }
    });

    test("the store's own words about an outage reach the log, not the client", async () => {
      const { logger, lines } = capturingLogger();
      const app = await startTestApp({
        logger,
        store: failingStore(() => {
          throw new StoreUnavailableError('MDB_PANIC at /var/lib/secret/accounts.mdb');
        }, how),
      });
      try {
        assert.equal((await send(app.url, '/accounts/10000')).status, 503);
        const logged = lines.find((line) => line.msg === 'request failed');
        assert.ok(logged, `no "request failed" log line in ${JSON.stringify(lines)}`);
        assert.match(JSON.stringify(logged.err), /MDB_PANIC at \/var\/lib\/secret/);
      } finally {
        await app.close();
      }
    });

    for (const [what, fail] of [
      [
        'rejects with a plain Error',
        () => {
          throw new Error('boom: cannot read /srv/secret/accounts.mdb');
        },
      ],
      [
        'throws a TypeError',
        () => {
          throw new TypeError("Cannot read properties of undefined (reading 'secret')");
        },
      ],
      [
        'throws a string',
        () => {
          // eslint-disable-next-line @typescript-eslint/only-throw-error -- the case under test: a non-Error thrown
          throw 'secret string';
        },
      ],
    ] as ReadonlyArray<readonly [string, () => never]>) {
      test(`a store that ${what} answers 500 "internal error" and logs the cause`, async () => {
        const { logger, lines } = capturingLogger();
        const app = await startTestApp({ store: failingStore(fail, how), logger });
        try {
          const res = await send(app.url, '/accounts/10000');
          assert.equal(res.status, 500);
          assert.equal(res.headers['content-type'], JSON_TYPE);
          assert.deepEqual(JSON.parse(res.body), {
            statusCode: 500,
            error: 'Internal Server Error',
            message: 'internal error',
          });
          // The operator, unlike the client, is told what happened.
          const logged = lines.find((line) => line.msg === 'request failed');
          assert.ok(logged, `no "request failed" log line in ${JSON.stringify(lines)}`);
          assert.equal(logged.level, 50);
          assert.match(JSON.stringify(logged.err), /secret/);
        } finally {
          await app.close();
        }
      });
    }
  });
}

describe('JSON schemas', () => {
  test('the app loads no schema compiler: a route that declares a schema fails at start, saying why', async () => {
    const app = await startTestApp();
    try {
      // The running app's parts, in a second app that has not started yet, so a route can still be added.
      const second = await buildApp({
        logger: pino({ level: 'silent' }),
        store: app.store,
        health: app.health,
        lifecycle: app.lifecycle,
      });
      second.get(
        '/with-schema',
        { schema: { querystring: { type: 'object', properties: { q: { type: 'string' } } } } },
        async () => 'x',
      );
      await assert.rejects(async () => second.ready(), /JSON schema validation is not loaded in this service/);
      await second.close().catch(() => {});
    } finally {
      await app.close();
    }
  });
});
