// Both ways into Fastify: the plugin (health routes as Fastify routes, the app's hooks apply) and
// the node:http adapter through serverFactory (answered before Fastify sees the request). The
// plugin answers like the interceptor, never parses a body, and leaves CORS to the app.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import cors, { type FastifyCorsOptions } from '@fastify/cors';
import { healthPlugin } from '../src/fastify.js';
import { withHealth } from '../src/node-http.js';
import type { Health } from '../src/types.js';
import { AUTH, contractHealth, describeAdapterContract } from './helpers/adapter-contract.js';
import {
  assertOwnHeaders,
  close,
  exchange,
  get,
  listen,
  rawRequest,
  type RawAnswer,
  type RawRequest,
} from './helpers/http.js';

async function listening(app: FastifyInstance): Promise<string> {
  return app.listen({ port: 0, host: '127.0.0.1' });
}

/**
 * Closes the app without waiting on a connection a client left open with no request on it (fetch
 * opens a spare one after an abort): Fastify's close would wait for its keep-alive timeout, 72 s.
 */
async function closeNow(app: FastifyInstance): Promise<void> {
  const closing = app.close();
  app.server.closeAllConnections();
  await closing;
}

describeAdapterContract('Fastify plugin', async (health, hooks) => {
  const passedOn: string[] = [];
  const errors: unknown[] = [];
  const app = Fastify();
  app.setErrorHandler(async (error, _request, reply) => {
    errors.push(error);
    return reply.code(500).send('error handler');
  });
  await app.register(healthPlugin, { health, hooks });
  app.get('/app', async (request) => {
    passedOn.push(request.url);
    return 'app';
  });
  return { base: await listening(app), passedOn, errors, close: () => closeNow(app) };
});

/** Requests whose method or body Fastify would act on before a route's handler. */
const oddRequests: readonly RawRequest[] = [
  { method: 'POST', path: '/health/live', headers: { 'content-type': 'application/x-odd' }, body: 'odd' },
  { method: 'POST', path: '/health/live', headers: { 'content-type': 'odd' }, body: 'odd' },
  { method: 'PUT', path: '/health/ready', headers: { 'content-type': 'application/json' }, body: '{"a":' },
  { method: 'PATCH', path: '/health/checks/database', headers: { 'content-type': 'application/json' }, body: '' },
  { method: 'DELETE', path: '/health/watch', headers: { 'transfer-encoding': 'chunked' }, body: 'x' },
  { method: 'QUERY', path: '/health/live' },
  { method: 'TRACE', path: '/health/live' },
  { method: 'OPTIONS', path: '/health/live', headers: { 'content-type': 'text/plain' }, body: 'x' },
  {
    method: 'OPTIONS',
    path: '/health/ready',
    headers: { origin: 'http://a.test', 'access-control-request-method': 'GET' },
  },
];

describe('Fastify plugin: the same answers as the interceptor', () => {
  let plugin: FastifyInstance;
  const interceptorHealth = contractHealth();
  const interceptor = createServer(withHealth(interceptorHealth, (_request, response) => response.end('app')));
  const health = contractHealth();
  const bases: string[] = [];
  before(async () => {
    await Promise.all([health.start(), interceptorHealth.start()]);
    plugin = Fastify();
    await plugin.register(healthPlugin, { health });
    bases.push(await listening(plugin), await listen(interceptor));
  });
  after(async () => {
    health.close();
    interceptorHealth.close();
    await plugin.close();
    await close(interceptor);
  });

  it('odd methods and bodies: status, headers and body alike (405, or 204 for OPTIONS; never 400, 413 or 415)', async () => {
    for (const spec of oddRequests) {
      const [fromPlugin, fromInterceptor] = await Promise.all(bases.map((base) => rawRequest(base, spec)));
      const what = `${spec.method} ${spec.path} ${JSON.stringify(spec.headers ?? {})}`;
      const pick = ({ status, headers, body }: RawAnswer) => ({
        status,
        body,
        allow: headers.allow,
        type: headers['content-type'],
        length: headers['content-length'],
      });
      assert.deepEqual(pick(fromPlugin!), pick(fromInterceptor!), what);
      assert.equal(fromPlugin!.status, spec.method === 'OPTIONS' ? 204 : 405, what);
    }
  });

  it('a body is never read: 405 comes before it does (2 MB, over the body limit, or 100 kB under it)', async () => {
    for (const [type, length] of [
      ['application/json', 2 * 1024 * 1024], // over the body limit: Fastify would answer 413
      ['application/json', 100 * 1024], // under it: Fastify would wait for the whole body
      ['application/x-odd', 2 * 1024 * 1024], // Fastify would answer 415
    ] as const) {
      const spec = { method: 'POST', path: '/health/ready', headers: { 'content-type': type }, body: '{"a":' };
      const answer = await rawRequest(bases[0]!, { ...spec, declaredLength: length }, 2000);
      assert.equal(answer.status, 405, `${type}, ${length} bytes announced, 5 sent: ${answer.body}`);
    }
  });
});

/** A started health behind the plugin, as configure registers it, on a real port; both closed after. */
async function onPlugin(
  configure: (app: FastifyInstance, health: Health) => PromiseLike<unknown>,
  body: (base: string) => Promise<void>,
): Promise<void> {
  const health = contractHealth();
  await health.start();
  const app = Fastify();
  try {
    await configure(app, health);
    await body(await listening(app));
  } finally {
    health.close();
    await closeNow(app);
  }
}

describe('Fastify plugin: what the app around it does', () => {
  it("the app's own routes still parse their bodies: the plugin's hook stays in its context", async () => {
    await onPlugin(
      async (app, health) => {
        await app.register(healthPlugin, { health });
        app.post('/echo', async (request) => request.body);
      },
      async (base) => {
        const body = '{"a":1}';
        const echo = await get(`${base}/echo`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        assert.deepEqual(echo.json(), { a: 1 });
      },
    );
  });

  it('registered with a prefix, the views answer under it, in absolute form too; the hooks get Fastify’s request', async () => {
    const hooks = { headers: (request: FastifyRequest) => ({ 'x-request-id': request.id }) };
    await onPlugin(
      (app, health) => app.register(healthPlugin, { health, hooks, prefix: '/ops' }),
      async (base) => {
        const live = await get(`${base}/ops/health/live?verbose`);
        assert.equal(live.status, 200, live.text);
        assert.equal(live.text, 'live check passed\n');
        assert.match(live.headers.get('x-request-id') ?? '', /^req-/);
        assert.equal((await get(`${base}/health/live`)).status, 404);
        const absolute =
          'GET http://example.com/ops/health/live HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n';
        assert.match(await exchange(base, absolute), /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n\{"status":"UP"\}$/);
      },
    );
  });

  it('answers GET http://host/health/live (RFC 9112 §3.2.2), which Fastify routes with the URL left absolute', async () => {
    await onPlugin(
      (app, health) => app.register(healthPlugin, { health }),
      async (base) => {
        const request = 'GET http://example.com/health/live HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n';
        const answer = await exchange(base, request);
        assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/, answer);
        assert.match(answer, /\r\n\r\n\{"status":"UP"\}$/, answer);
      },
    );
  });

  it("neither an onRequest hook nor the plugin's header hook can replace the content type, length or cache rule", async () => {
    const hostHeaders = { 'content-type': 'text/plain', 'content-length': '1', 'cache-control': 'public' };
    await onPlugin(
      (app, health) => {
        app.addHook('onRequest', async (_request, reply) => {
          reply.header('content-type', 'text/html').header('cache-control', 'max-age=600');
        });
        return app.register(healthPlugin, { health, hooks: { headers: () => hostHeaders } });
      },
      async (base) => assertOwnHeaders(await get(`${base}/health/live`), '{"status":"UP"}'),
    );
  });
});

describe('Fastify plugin: OPTIONS and CORS preflights', () => {
  const preflight = {
    method: 'OPTIONS',
    headers: {
      origin: 'http://app.test',
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'authorization',
    },
  };

  /** The plugin after @fastify/cors with these options (none: no CORS asked for). */
  function withCors(corsOptions?: FastifyCorsOptions) {
    return async (app: FastifyInstance, health: Health) => {
      if (corsOptions) await app.register(cors, corsOptions);
      await app.register(healthPlugin, { health });
    };
  }

  it('without CORS asked for: 204 with Allow and no Access-Control-Allow-* (a browser refuses the cross-origin call)', async () => {
    await onPlugin(withCors(), async (base) => {
      const answer = await get(`${base}/health/ready`, preflight);
      assert.equal(answer.status, 204);
      assert.equal(answer.headers.get('allow'), 'GET, HEAD, OPTIONS');
      assert.equal(answer.headers.get('access-control-allow-origin'), null);
    });
  });

  for (const hook of ['onRequest', 'preHandler'] as const) {
    it(`with @fastify/cors registered first (hook: ${hook}): its preflight answer, its headers on GETs and the stream`, async () => {
      await onPlugin(withCors({ origin: 'http://app.test', hook }), async (base) => {
        const answer = await get(`${base}/health/ready`, preflight);
        assert.equal(answer.status, 204, answer.text);
        assert.equal(answer.headers.get('access-control-allow-origin'), 'http://app.test');
        assert.equal(answer.headers.get('access-control-allow-headers'), 'authorization');
        const live = await get(`${base}/health/live`, { headers: { origin: 'http://app.test' } });
        assert.equal(live.text, '{"status":"UP"}');
        assert.equal(live.headers.get('access-control-allow-origin'), 'http://app.test');
        // The watch stream's reply is hijacked: what the app's hooks set on it is carried over.
        const controller = new AbortController();
        const watch = await fetch(`${base}/health/watch`, {
          headers: { ...AUTH, origin: 'http://app.test' },
          signal: controller.signal,
        });
        assert.equal(watch.status, 200);
        assert.equal(watch.headers.get('access-control-allow-origin'), 'http://app.test', 'on the watch stream');
        controller.abort();
      });
    });
  }

  it('with @fastify/cors and preflightContinue: the route answers 204 with Allow, keeping the CORS headers', async () => {
    await onPlugin(withCors({ origin: 'http://app.test', preflightContinue: true }), async (base) => {
      const answer = await get(`${base}/health/checks/database`, preflight);
      assert.equal(answer.status, 204, answer.text);
      assert.equal(answer.headers.get('allow'), 'GET, HEAD, OPTIONS');
      assert.equal(answer.headers.get('access-control-allow-origin'), 'http://app.test');
      assert.equal(answer.headers.get('access-control-allow-methods'), 'GET,HEAD,POST');
    });
  });
});

describe('node:http adapter under Fastify (serverFactory)', () => {
  it('answers health routes before Fastify: its hooks never run for them, its routes still work', async () => {
    const h = contractHealth();
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
      const answer = await get(`${base}/health/live`);
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
