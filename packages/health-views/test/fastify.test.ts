// Both ways into Fastify: the plugin (health routes as Fastify routes, the app's hooks apply) and
// the node:http adapter through serverFactory (answered before Fastify sees the request).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { healthPlugin } from '../src/fastify.js';
import { createHealth } from '../src/registry.js';
import { withHealth } from '../src/node-http.js';
import type { Health } from '../src/types.js';
import { assertOwnHeaders, exchange, get, readEvents } from './helpers/http.js';

const TOKEN = 'the-right-token-0123456789';

function health(): Health {
  return createHealth({
    checks: [
      { name: 'database', intervalMs: 60_000, timeoutMs: 1000, run: () => true },
      { name: 'shutdown', kind: 'flag', initial: true, publicCause: 'shutting down' },
    ],
    views: [{ name: 'ready', path: '/health/ready', checks: ['database', 'shutdown'] }],
    disclosure: { mode: 'token', token: TOKEN },
  });
}

async function listening(app: FastifyInstance): Promise<string> {
  return app.listen({ port: 0, host: '127.0.0.1' });
}

describe('fastify plugin', () => {
  it("answers like the node:http adapter, through Fastify routes and the app's own hooks", async () => {
    const h = health();
    await h.start();
    const app = Fastify();
    app.addHook('onRequest', async (_request, reply) => {
      reply.header('x-content-type-options', 'nosniff');
    });
    await app.register(healthPlugin, { health: h });
    const base = await listening(app);
    try {
      const up = await get(`${base}/health/ready`);
      assert.equal(up.status, 200);
      assert.equal(up.text, '{"status":"UP"}');
      assert.equal(up.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(up.headers.get('content-type'), 'application/json; charset=utf-8');
      h.flag('shutdown').set(false);
      const down = await get(`${base}/health/ready`);
      assert.equal(down.status, 503);
      assert.deepEqual(down.json(), {
        status: 'DOWN',
        checks: { shutdown: { status: 'DOWN', cause: 'shutting down' } },
      });
      const post = await get(`${base}/health/ready`, { method: 'DELETE' });
      assert.equal(post.status, 405);
      assert.equal(post.headers.get('allow'), 'GET, HEAD');
      assert.equal((await get(`${base}/health/checks/database`)).status, 403);
      const head = await get(`${base}/health/ready`, { method: 'HEAD' });
      assert.equal(head.status, 503);
      assert.equal(head.text, '');
      assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(down.text)), 'HEAD: the GET length');
      const stream = await fetch(`${base}/health/watch`, {
        headers: { authorization: `Bearer ${TOKEN}` },
        signal: AbortSignal.timeout(5000),
      });
      assert.equal(stream.headers.get('x-content-type-options'), 'nosniff', 'hook headers carried onto the stream');
      const events = await readEvents(stream.body!, (text) => text.includes('event: snapshot'));
      assert.match(events, /"views":\{"ready":"DOWN"\}/);
    } finally {
      h.close();
      await app.close();
    }
  });
});

describe('node:http adapter under Fastify (serverFactory)', () => {
  it('answers health routes before Fastify: its hooks never run for them, its routes still work', async () => {
    const h = health();
    await h.start();
    const seenByFastify: string[] = [];
    const app = Fastify({
      serverFactory: (handler) =>
        createServer(withHealth(h, handler, { headers: () => ({ 'x-served-by': 'health' }) })),
    });
    app.addHook('onRequest', async (request) => {
      seenByFastify.push(request.url);
    });
    app.get('/accounts/:id', async () => ({ id: 1 }));
    const base = await listening(app);
    try {
      const answer = await get(`${base}/health/ready`);
      assert.equal(answer.text, '{"status":"UP"}');
      assert.equal(answer.headers.get('x-served-by'), 'health');
      assert.deepEqual((await get(`${base}/accounts/1`)).json(), { id: 1 });
      assert.deepEqual(seenByFastify, ['/accounts/1']);
    } finally {
      h.close();
      await app.close();
    }
  });
});

/** A started health() behind the plugin, as configure registers it, on a real port; both closed after. */
async function onPlugin(
  configure: (app: FastifyInstance, h: Health) => PromiseLike<unknown>,
  body: (base: string) => Promise<void>,
): Promise<void> {
  const h = health();
  await h.start();
  const app = Fastify();
  try {
    await configure(app, h);
    await body(await listening(app));
  } finally {
    h.close();
    await app.close();
  }
}

describe('fastify plugin: request targets in absolute form', () => {
  it('answers GET http://host/health/ready (RFC 9112 §3.2.2), which Fastify routes with the URL left absolute', async () => {
    await onPlugin(
      (app, h) => app.register(healthPlugin, { health: h }),
      async (base) => {
        const request =
          'GET http://example.com/health/ready HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n';
        const answer = await exchange(base, request);
        assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/, answer);
        assert.match(answer, /\r\n\r\n\{"status":"UP"\}$/, answer);
      },
    );
  });
});

describe("fastify plugin: the host's headers", () => {
  it("neither an onRequest hook nor the plugin's header hook can replace the content type, length or cache rule", async () => {
    const hostHeaders = { 'content-type': 'text/plain', 'content-length': '1', 'cache-control': 'public' };
    await onPlugin(
      (app, h) => {
        app.addHook('onRequest', async (_request, reply) => {
          reply.header('content-type', 'text/html').header('cache-control', 'max-age=600');
        });
        return app.register(healthPlugin, { health: h, hooks: { headers: () => hostHeaders } });
      },
      async (base) => assertOwnHeaders(await get(`${base}/health/ready`), '{"status":"UP"}'),
    );
  });
});
