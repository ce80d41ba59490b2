// Slow clients cannot hold the service: headers sent one byte at a time, bodies that never finish,
// connections that send nothing, idle keep-alive sockets. The server closes each within its
// configured timeout while /health keeps answering. Short timeouts in-process (the service's
// `timeouts` dep), then the production defaults against the built service.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { SERVER_TIMEOUTS, type ServerTimeouts } from '../../src/http/server-timeouts.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { startService, type ServiceProcess } from '../helpers/service-process.js';
import { withDeadline } from '../helpers/deadline.js';
import { shutdownEnv, stopWithin } from './support.js';

interface SlowClient {
  /** Resolves when the server closes the connection: what it sent, and how long after connecting. */
  readonly closed: Promise<{ received: string; afterMs: number }>;
}

type Behaviour =
  /** Sends the request line, then one header byte every dripMs, never finishing the headers. */
  | 'drip-headers'
  /** Sends complete headers announcing a body, then one body byte every dripMs. */
  | 'drip-body'
  /** Connects and sends nothing. */
  | 'silent'
  /** Makes one complete keep-alive request, then stays idle. */
  | 'idle-keep-alive';

function slowClient(port: number, behaviour: Behaviour, dripMs: number): SlowClient {
  const socket = connect(port, '127.0.0.1');
  const started = Date.now();
  let received = '';
  let drip: NodeJS.Timeout | undefined;
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    received += chunk;
  });
  socket.on('error', () => {
    // A reset by the server is a close too; 'close' follows.
  });
  socket.on('connect', () => {
    const send = (text: string) => {
      if (!socket.destroyed) socket.write(text);
    };
    switch (behaviour) {
      case 'drip-headers': {
        send('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
        const header = 'X-Slowloris: ' + 'a'.repeat(10_000);
        let i = 0;
        drip = setInterval(() => send(header[i++ % header.length]!), dripMs);
        break;
      }
      case 'drip-body': {
        // Not a health route: those are answered before the body is read (405 for PUT), so the
        // body's timeout would only close the socket after an answer.
        send(
          'PUT /accounts/10000 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n',
        );
        drip = setInterval(() => send('x'), dripMs);
        break;
      }
      case 'silent':
        break;
      case 'idle-keep-alive':
        send('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
        break;
    }
  });
  const closed = new Promise<{ received: string; afterMs: number }>((resolve) => {
    socket.on('close', () => {
      clearInterval(drip);
      resolve({ received, afterMs: Date.now() - started });
    });
  });
  return { closed };
}

/** Polls /health until stop() and records each answer's status (0: none) and latency. */
function healthPoller(url: string, everyMs: number) {
  const answers: { status: number; ms: number }[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const started = Date.now();
      try {
        const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
        await response.arrayBuffer();
        answers.push({ status: response.status, ms: Date.now() - started });
      } catch {
        answers.push({ status: 0, ms: Date.now() - started }); // no answer: fails the 200 assertion
      }
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    answers,
    async stop() {
      running = false;
      await done;
    },
  };
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** The status line the server sent before closing, or 'nothing'. */
function statusOf(received: string): string {
  return /^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 'nothing';
}

describe('slow clients against short server timeouts (in-process app)', () => {
  const timeouts: ServerTimeouts = {
    headersTimeoutMs: 1000,
    requestTimeoutMs: 1500,
    keepAliveTimeoutMs: 700,
    connectionTimeoutMs: 3000,
    connectionsCheckingIntervalMs: 100,
  };
  let service: TestApp;
  let url: string;

  before(async () => {
    // The real service (service.ts), with the server timeouts shortened: the timeouts live on the
    // server the health interceptor sits in front of, so this also proves they are applied there.
    service = await startTestApp({ checkIntervalMs: 100, timeouts });
    url = service.url;
  });

  after(() => service.close());

  it('closes slowloris, slow-body, silent and idle keep-alive connections within their timeouts; /health answers meanwhile', async (t) => {
    const poller = healthPoller(url, 25);
    const port = portOf(url);
    const clients = [
      ...Array.from({ length: 20 }, () => ({ kind: 'drip-headers', client: slowClient(port, 'drip-headers', 50) })),
      ...Array.from({ length: 5 }, () => ({ kind: 'drip-body', client: slowClient(port, 'drip-body', 50) })),
      ...Array.from({ length: 5 }, () => ({ kind: 'silent', client: slowClient(port, 'silent', 50) })),
      ...Array.from({ length: 5 }, () => ({
        kind: 'idle-keep-alive',
        client: slowClient(port, 'idle-keep-alive', 50),
      })),
    ];
    // Room for a loaded 2-core box: this app shares its event loop with 35 dripping clients and the poller.
    const slack = timeouts.connectionsCheckingIntervalMs + 2000;
    const limits: Record<string, number> = {
      'drip-headers': timeouts.headersTimeoutMs + slack,
      'drip-body': timeouts.requestTimeoutMs + slack,
      silent: timeouts.headersTimeoutMs + slack,
      // Node gives an idle keep-alive socket one more second than keepAliveTimeout before it closes it.
      'idle-keep-alive': timeouts.keepAliveTimeoutMs + 1000 + slack,
    };
    const results = await Promise.all(
      clients.map(async ({ kind, client }) => ({
        kind,
        ...(await withDeadline(client.closed, limits[kind]!, `the server to close a ${kind} connection`)),
      })),
    );
    await poller.stop();

    for (const result of results) {
      assert.ok(result.afterMs <= limits[result.kind]!, `${result.kind} closed after ${result.afterMs} ms`);
      const status = statusOf(result.received);
      // Slow senders are told why (408); the idle keep-alive one had its 200 and was then closed quietly.
      if (result.kind === 'idle-keep-alive') assert.equal(status, '200');
      else if (result.kind !== 'silent') assert.equal(status, '408', `${result.kind}: ${result.received}`);
      assert.ok(!/^HTTP\/1\.1 5/m.test(result.received), `no 5xx: ${result.received}`);
    }
    assert.ok(poller.answers.length >= 20, `/health was polled throughout (${poller.answers.length} answers)`);
    // Each poll gives up after 2 s (status 0): every one answered 200 within that.
    assert.ok(
      poller.answers.every((answer) => answer.status === 200),
      '/health answered 200 within 2 s throughout',
    );
    const slowest = Math.max(...poller.answers.map((answer) => answer.ms));

    const byKind = (kind: string) => Math.max(...results.filter((r) => r.kind === kind).map((r) => r.afterMs));
    t.diagnostic(
      `35 slow connections closed: drip-headers by ${byKind('drip-headers')} ms (headersTimeout ${timeouts.headersTimeoutMs}), ` +
        `drip-body by ${byKind('drip-body')} ms (requestTimeout ${timeouts.requestTimeoutMs}), ` +
        `silent by ${byKind('silent')} ms, idle keep-alive by ${byKind('idle-keep-alive')} ms (keepAliveTimeout ${timeouts.keepAliveTimeoutMs}); ` +
        `/health ${poller.answers.length} answers, all 200, slowest ${slowest} ms`,
    );
  });
});

describe('slow clients against the production defaults (built service, child process)', () => {
  let service: ServiceProcess;
  before(async () => {
    service = await startService();
  });
  after(() => service.cleanup());

  it(`closes slowloris connections within the default headersTimeout (${SERVER_TIMEOUTS.headersTimeoutMs} ms) while /health answers`, async (t) => {
    const poller = healthPoller(service.url, 50);
    const port = portOf(service.url);
    const clients = [
      ...Array.from({ length: 10 }, () => slowClient(port, 'drip-headers', 200)),
      ...Array.from({ length: 2 }, () => slowClient(port, 'silent', 200)),
    ];
    const limit = SERVER_TIMEOUTS.headersTimeoutMs + SERVER_TIMEOUTS.connectionsCheckingIntervalMs + 1500;
    const results = await Promise.all(
      clients.map((client) => withDeadline(client.closed, limit, 'the server to close a slow connection')),
    );
    await poller.stop();
    // Each poll gives up after 2 s (status 0): every one answered 200 within that.
    assert.ok(
      poller.answers.every((answer) => answer.status === 200),
      '/health answered 200 within 2 s throughout',
    );
    const slowest = Math.max(...poller.answers.map((answer) => answer.ms));
    for (const result of results.slice(0, 10)) assert.equal(statusOf(result.received), '408', result.received);
    const latest = Math.max(...results.map((result) => result.afterMs));
    t.diagnostic(
      `12 slow connections closed by the service, the last after ${latest} ms (limit ${limit} ms); ` +
        `/health ${poller.answers.length} answers, all 200, slowest ${slowest} ms`,
    );
  });
});

describe('slow clients at shutdown (built service, child process)', () => {
  /** Once the server closes, connections with nothing to answer get 1000 ms; the rest of the limit is slack. */
  const limits = { drainMs: 500, timeoutMs: 8000, limitMs: 500 + 2500 };

  it(`a slowloris client cannot hold up a graceful shutdown: exit 0 within drain + 2500 ms`, async (t) => {
    // Node stops checking headersTimeout once its server closes: a request dripping then would
    // hold server.close() until the shutdown deadline, and exit 1.
    const service = await startService({ env: shutdownEnv(limits) });
    try {
      const client = slowClient(portOf(service.url), 'drip-headers', 200);
      await stopWithin(service, limits, t);
      await withDeadline(client.closed, 5000, 'the slowloris connection to be closed');
    } finally {
      await service.cleanup();
    }
  });
});
