// A request target in absolute form (`GET http://host/accounts/10000 HTTP/1.1`, as a client sends
// it to a proxy) is answered as its origin form would be (RFC 9112 §3.2.2: a server must accept
// it), on every route and listener: accounts, the health routes (answered before Fastify), /metrics on
// the service port and on a port of its own. Raw sockets, since fetch only sends the origin form.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SERVER_TIMEOUTS } from '../../src/http/server-timeouts.js';
import { createMetricsServer } from '../../src/http/metrics-port.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { rawExchange, type RawResponse } from '../reliability/support.js';

const apps: TestApp[] = [];
after(async () => {
  await Promise.all(apps.map((app) => app.close()));
});

async function start(): Promise<{ port: number }> {
  const app = await startTestApp({ metrics: true });
  apps.push(app);
  return { port: Number(new URL(app.url).port) };
}

/** The one answer to `GET <target>`, on a connection of its own. */
async function get(port: number, target: string): Promise<RawResponse> {
  const exchange = await rawExchange(port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  assert.equal(exchange.responses.length, 1, `one answer to GET ${target}, got ${JSON.stringify(exchange.received)}`);
  return exchange.responses[0]!;
}

/** What a status and body look like, for comparing an absolute-form answer with its origin form's. */
function shape(response: RawResponse): { status: number; body: string } {
  // Bodies that name the request (an error's id, a timing) differ per request: compare the stable part.
  return { status: response.status, body: response.body.replace(/"requestId":"[^"]*"/g, '') };
}

const TARGETS: ReadonlyArray<readonly [absolute: string, origin: string]> = [
  ['http://127.0.0.1/accounts/10000', '/accounts/10000'],
  ['HTTP://Example.COM:8080/accounts/10001?fields=all', '/accounts/10001?fields=all'],
  ['https://example.com/accounts/not-a-number', '/accounts/not-a-number'],
  ['http://example.com/no/such/route', '/no/such/route'],
  ['http://example.com', '/'],
  ['http://example.com?x=1', '/?x=1'],
  ['http://example.com/health/ready', '/health/ready'],
];

describe('absolute-form request targets on the service port', () => {
  it('are answered as their origin form is: same status, same body', async () => {
    const { port } = await start();
    for (const [absolute, origin] of TARGETS) {
      const expected = shape(await get(port, origin));
      assert.deepEqual(shape(await get(port, absolute)), expected, `GET ${absolute} answered as GET ${origin}`);
    }
    // The checks on the targets above mean something only if the origin forms differ.
    assert.equal((await get(port, '/accounts/10000')).status, 200);
    assert.equal((await get(port, 'http://h/health')).status, 200);
    assert.equal((await get(port, 'http://h/metrics')).status, 200);
  });
});

describe('absolute-form request targets on the metrics port', () => {
  it('GET http://host/metrics is a scrape', async () => {
    const metrics = { contentType: 'text/plain; version=0.0.4; charset=utf-8', render: async () => 'up 1\n' };
    const server = createMetricsServer(metrics, { timeouts: SERVER_TIMEOUTS, guard: { maxQueuedResponses: 32 } });
    try {
      const port = await server.listen(0, '127.0.0.1');
      const scrape = await get(port, 'http://127.0.0.1/metrics?name[]=up');
      assert.deepEqual(shape(scrape), { status: 200, body: 'up 1\n' });
      assert.equal((await get(port, 'http://127.0.0.1/other')).status, 404);
    } finally {
      await server.close();
    }
  });
});
