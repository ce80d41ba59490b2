// httpCheck against real servers on loopback: expected and unexpected statuses, a server that never
// answers (ended by the signal), an endless body (not read to its end), redirects (not followed
// unless asked; headers kept to the first origin), request headers, and HTTPS with a self-signed
// certificate made here by the openssl CLI.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpCheck, MAX_BODY_BYTES } from '../../src/checks/http.js';
import { close, listen } from '../helpers/http.js';
import { waitUntil } from '../helpers/deadline.js';
import { firstReport } from '../helpers/first-report.js';

/** A dependency with one route per behaviour; it counts its open connections and what it was sent. */
function dependency() {
  const state = { open: 0, hangingClosed: false, lastHeaders: {} as IncomingHttpHeaders };
  const sockets = new Set<Socket>();
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
    '/ok': (_, res) => res.end('ok'),
    '/no-content': (_, res) => res.writeHead(204).end(),
    '/fail': (_, res) => res.writeHead(500).end('broken'),
    '/auth': (req, res) => res.writeHead(req.headers.authorization === 'Bearer s3cret' ? 200 : 401).end(),
    '/redirect': (_, res) => res.writeHead(302, { location: '/ok' }).end(),
    '/loop': (_, res) => res.writeHead(307, { location: '/loop' }).end(),
    '/hang': (req) => req.socket.once('close', () => (state.hangingClosed = true)),
    '/endless': (_, res) => {
      const chunk = Buffer.alloc(16 * 1024, 'x');
      res.writeHead(200, { 'content-type': 'text/plain' });
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    },
  };
  const server = createServer((req, res) => {
    state.lastHeaders = req.headers;
    const route = routes[new URL(req.url ?? '/', 'http://x').pathname];
    if (route) route(req, res);
    else res.writeHead(404).end();
  });
  server.on('connection', (socket: Socket) => {
    state.open++;
    sockets.add(socket);
    socket.on('close', () => {
      state.open--;
      sockets.delete(socket);
    });
  });
  return { server, state, sockets };
}

/** What Node reads from a socket at once (the buffer libuv is handed for each read). */
const SOCKET_READ_BYTES = 64 * 1024;

/**
 * Runs work, keeping the client sockets opened meanwhile in this process (node:net publishes each
 * on the 'net.client.socket' channel): their bytesRead is what the check took from the kernel.
 */
async function clientSocketsOf<T>(work: () => Promise<T>): Promise<{ result: T; opened: Socket[] }> {
  const opened: Socket[] = [];
  const onSocket = (message: unknown): void => void opened.push((message as { socket: Socket }).socket);
  subscribe('net.client.socket', onSocket);
  try {
    return { result: await work(), opened };
  } finally {
    unsubscribe('net.client.socket', onSocket);
  }
}

describe('httpCheck', () => {
  const { server, state } = dependency();
  const other = dependency();
  let base: string;
  let otherBase: string;
  before(async () => {
    base = await listen(server);
    otherBase = await listen(other.server);
  });
  after(async () => {
    await close(server);
    await close(other.server);
  });

  async function noConnectionLeft(): Promise<void> {
    await waitUntil(
      () => state.open,
      (open) => open === 0,
      2000,
      'the check to close its connection',
    );
  }

  it('is UP on a 2xx by default, and closes its connection after each run', async () => {
    for (const path of ['/ok', '/no-content']) {
      const report = await firstReport(httpCheck({ name: 'api', url: `${base}${path}` }));
      assert.equal(report.status, 'UP', `${path}: ${JSON.stringify(report)}`);
      await noConnectionLeft();
    }
  });

  it('is DOWN on an unexpected status, naming it and what was expected (without the query)', async () => {
    const report = await firstReport(httpCheck({ name: 'api', url: `${base}/fail?token=abc` }));
    assert.equal(report.status, 'DOWN');
    assert.equal(report.cause, `GET ${base}/fail answered 500 (expected 2xx)`);
    assert.equal(report.publicCause, 'an HTTP dependency is failing');
  });

  it('takes the expected status as a number, a list or a predicate', async () => {
    const cases = [
      [{ url: `${base}/no-content`, expectStatus: 200 }, 'DOWN', `GET ${base}/no-content answered 204 (expected 200)`],
      [{ url: `${base}/no-content`, expectStatus: 204 }, 'UP', undefined],
      [{ url: `${base}/auth`, expectStatus: [200, 401] }, 'UP', undefined],
      [
        { url: `${base}/fail`, expectStatus: [200, 401] },
        'DOWN',
        `GET ${base}/fail answered 500 (expected 200 or 401)`,
      ],
      [
        { url: `${base}/fail`, expectStatus: (status: number) => status < 500 },
        'DOWN',
        /answered 500 \(expected a status expectStatus accepts\)/,
      ],
      [{ url: `${base}/auth`, expectStatus: (status: number) => status < 500 }, 'UP', undefined],
    ] as const;
    for (const [options, status, cause] of cases) {
      const report = await firstReport(httpCheck({ name: 'api', ...options }));
      const what = `${options.url} expecting ${String(options.expectStatus)}`;
      assert.equal(report.status, status, `${what}: ${JSON.stringify(report)}`);
      if (typeof cause === 'string') assert.equal(report.cause, cause, what);
      else if (cause) assert.match(report.cause ?? '', cause, what);
    }
  });

  it('sends the headers it is given', async () => {
    assert.equal((await firstReport(httpCheck({ url: `${base}/auth` }))).status, 'DOWN');
    const report = await firstReport(httpCheck({ url: `${base}/auth`, headers: { authorization: 'Bearer s3cret' } }));
    assert.equal(report.status, 'UP', JSON.stringify(report));
  });

  it('ends a request that gets no answer at its timeout, closing the connection', async () => {
    const report = await firstReport(httpCheck({ url: `${base}/hang`, timeoutMs: 300 }));
    assert.equal(report.status, 'DOWN');
    assert.equal(report.cause, 'timed out after 300 ms');
    await waitUntil(
      () => state.hangingClosed,
      (closed) => closed,
      2000,
      'the server to see the connection closed',
    );
    await noConnectionLeft();
  });

  it('reads no more than MAX_BODY_BYTES of an endless body, then closes the connection', async () => {
    // The bytes the check's own socket took from the kernel (the server's count is no bound: what it
    // writes also fills socket buffers nobody reads). Node reads a socket 64 KiB at a time and stops
    // reading once the answer's stream holds its high-water mark: past the cap, at most the read that
    // crossed it and one more, whatever the machine's load.
    const { result: report, opened } = await clientSocketsOf(() =>
      firstReport(httpCheck({ url: `${base}/endless`, timeoutMs: 5000 })),
    );
    assert.equal(report.status, 'UP', `the status decides, not the body: ${JSON.stringify(report)}`);
    assert.ok((report.durationMs ?? Infinity) < 5000, `settled in ${report.durationMs} ms, before its timeout`);
    await noConnectionLeft();
    assert.equal(opened.length, 1, 'one connection for one run');
    const read = opened[0]!.bytesRead;
    const bound = MAX_BODY_BYTES + 2 * SOCKET_READ_BYTES;
    assert.ok(read > MAX_BODY_BYTES, `read ${read} bytes: the body was read up to the cap`);
    assert.ok(read <= bound, `read ${read} bytes of an endless answer; at most ${bound} (MAX_BODY_BYTES + two reads)`);
    assert.equal(MAX_BODY_BYTES, 64 * 1024);
  });

  it('does not follow a redirect unless asked, and says so', async () => {
    const report = await firstReport(httpCheck({ url: `${base}/redirect` }));
    assert.equal(report.status, 'DOWN');
    assert.equal(report.cause, `GET ${base}/redirect answered 302 (expected 2xx; redirects are not followed)`);
    assert.equal((await firstReport(httpCheck({ url: `${base}/redirect`, expectStatus: 302 }))).status, 'UP');
  });

  it('follows redirects when asked, a bounded number of times', async () => {
    const followed = await firstReport(httpCheck({ url: `${base}/redirect`, followRedirects: true }));
    assert.equal(followed.status, 'UP', JSON.stringify(followed));
    const looped = await firstReport(httpCheck({ url: `${base}/loop`, followRedirects: 3 }));
    assert.equal(looped.status, 'DOWN');
    assert.equal(looped.cause, `GET ${base}/loop answered 307 (expected 2xx; more than 3 redirects)`);
  });

  it('sends its headers to the first origin only when a redirect leaves it', async () => {
    const away = createServer((_, res) => res.writeHead(302, { location: `${otherBase}/ok` }).end());
    const awayBase = await listen(away);
    try {
      const report = await firstReport(
        httpCheck({ url: `${awayBase}/`, followRedirects: 1, headers: { authorization: 'Bearer s3cret' } }),
      );
      assert.equal(report.status, 'UP', JSON.stringify(report));
      assert.equal(other.state.lastHeaders.authorization, undefined, 'the credentials stayed with the first origin');
    } finally {
      await close(away);
    }
  });

  it('is DOWN with "refused" when nothing listens', async () => {
    const gone = createServer();
    const goneBase = await listen(gone);
    await close(gone);
    const report = await firstReport(httpCheck({ url: `${goneBase}/health` }));
    assert.equal(report.status, 'DOWN');
    assert.equal(report.cause, `GET ${goneBase}/health: connection to ${goneBase.slice(7)} refused (ECONNREFUSED)`);
  });

  it('refuses bad options at construction, naming the option', () => {
    assert.throws(
      () => httpCheck({ url: 'ftp://x/' }),
      /httpCheck\(\): url must be an absolute http: or https: URL \(got a ftp: URL\)/,
    );
    assert.throws(() => httpCheck({ url: '/health' }), /url must be an absolute .*\(got a value that is not a URL\)/);
    // A database URL given by mistake: its password is never in the message.
    assert.throws(
      () => httpCheck({ url: 'postgres://admin:hunter2@db/x' }),
      (error: Error) => /got a postgres: URL/.test(error.message) && !error.message.includes('hunter2'),
    );
    assert.throws(
      () => httpCheck({ url: base, expectStatus: 99 }),
      /expectStatus must be a whole number from 100 to 599 \(got 99\)/,
    );
    assert.throws(() => httpCheck({ url: base, expectStatus: [] }), /expectStatus must not be an empty list/);
    assert.throws(
      () => httpCheck({ url: base, headers: { 'bad name': 'x' } }),
      /headers: "bad name" is not a valid header name/,
    );
    assert.throws(
      () => httpCheck({ url: base, headers: { x: 'a\r\nb' } }),
      /the value of x must be a string without CR, LF or NUL/,
    );
    assert.throws(
      () => httpCheck({ url: base, followRedirects: 21 }),
      /followRedirects must be a whole number from 0 to 20/,
    );
    assert.throws(
      () => httpCheck({ url: base, tls: { ca: 'x', verify: false } as never }),
      /tls: unknown option "verify"/,
    );
    assert.throws(() => httpCheck({ url: base, tls: { ca: 123 as never } }), /tls: ca must be a string or Buffer/);
    assert.throws(() => httpCheck({ url: base, tls: { key: {} as never } }), /tls: key must be a string or Buffer/);
    assert.throws(() => httpCheck({ url: base, tls: { servername: 1 as never } }), /tls: servername must be a string/);
    assert.throws(
      () => httpCheck({ url: base, tls: { rejectUnauthorized: 'no' as never } }),
      /tls: rejectUnauthorized must be true or false/,
    );
    assert.throws(() => httpCheck({ url: base, expect: 200 } as never), /unknown option "expect"/);
  });
});

describe('httpCheck over HTTPS', () => {
  let dir: string;
  let cert: Buffer;
  let server: Server;
  let base: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'health-views-tls-'));
    const made = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { timeout: 10_000, encoding: 'utf8' },
    );
    assert.equal(
      made.status,
      0,
      `openssl (the CLI this test needs) made no certificate: ${made.error?.message ?? made.stderr}`,
    );
    cert = readFileSync(join(dir, 'cert.pem'));
    server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (_, res) => res.end('ok'));
    base = (await listen(server)).replace('http:', 'https:');
  });
  after(async () => {
    await close(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('is UP when the certificate is trusted through tls.ca', async () => {
    const report = await firstReport(httpCheck({ url: `${base}/health`, tls: { ca: cert } }));
    assert.equal(report.status, 'UP', JSON.stringify(report));
  });

  it('is DOWN, naming the TLS failure, when the certificate is not trusted', async () => {
    const report = await firstReport(httpCheck({ url: `${base}/health` }));
    assert.equal(report.status, 'DOWN');
    assert.match(report.cause ?? '', /^GET https:\/\/127\.0\.0\.1:\d+\/health: .*self[- ]signed certificate/);
  });
});
