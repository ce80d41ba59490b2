// The Koa middleware on real Koa 2 and Koa 3 (the same test body over both): the adapter contract,
// and the answer going through Koa's own response handling, where upstream middleware sees it.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import Koa3, { type Context } from 'koa';
import Koa2 from 'koa2';
import { healthMiddleware } from '../src/koa.js';
import type { AdapterHooks, Health } from '../src/types.js';
import { AUTH, contractHealth, describeAdapterContract, type Mounted } from './helpers/adapter-contract.js';
import { close, get, listen } from './helpers/http.js';

const versions = [
  ['Koa 2', Koa2],
  ['Koa 3', Koa3],
] as const;

interface KoaMounted extends Mounted {
  /** `method url status` of every request, as an upstream logging middleware saw it after next(). */
  readonly logged: readonly string[];
}

/** The app every test uses: a logger and an error recorder upstream, the middleware, a route of its own. */
async function mountOn(Koa: typeof Koa3, health: Health, hooks: AdapterHooks<Context>): Promise<KoaMounted> {
  const passedOn: string[] = [];
  const errors: unknown[] = [];
  const logged: string[] = [];
  const app = new Koa();
  app.on('error', (error) => errors.push(error));
  app.use(async (ctx, next) => {
    await next();
    logged.push(`${ctx.method} ${ctx.url} ${ctx.status}`);
    ctx.set('x-response-time', 'measured'); // as koa's own example middleware does, after next()
  });
  app.use(healthMiddleware(health, hooks));
  app.use((ctx) => {
    passedOn.push(ctx.url);
    ctx.body = ctx.path === '/app' ? 'app' : 'not found';
  });
  const server: Server = app.listen(0, '127.0.0.1');
  return { base: await listen(server), passedOn, errors, logged, close: () => close(server) };
}

for (const [name, Koa] of versions) {
  describeAdapterContract(name, (health, hooks) => mountOn(Koa, health, hooks));

  describe(`${name}: through Koa's own response handling`, () => {
    it('upstream middleware sees the answer after next() and adds its headers; the hooks get ctx', async () => {
      const health = contractHealth();
      await health.start();
      // Koa's own Context type in the hook: what a user writes, and it compiles.
      const hooks = { headers: (ctx: Context) => ({ 'x-koa-path': ctx.path }) };
      const app = await mountOn(Koa, health, hooks);
      try {
        const answers = [
          await get(`${app.base}/health/live`),
          await get(`${app.base}/health/ready`, { method: 'HEAD' }),
          await get(`${app.base}/health/live`, { method: 'OPTIONS' }),
          await get(`${app.base}/health/watch`, { method: 'HEAD', headers: AUTH }),
        ];
        assert.deepEqual(
          answers.map((answer) => answer.headers.get('x-response-time')),
          ['measured', 'measured', 'measured', 'measured'],
          'a header set upstream after next() is on every health answer',
        );
        assert.equal(answers[0]!.headers.get('x-koa-path'), '/health/live');
        assert.deepEqual(app.logged, [
          'GET /health/live 200',
          'HEAD /health/ready 503',
          'OPTIONS /health/live 204',
          'HEAD /health/watch 200',
        ]);
      } finally {
        health.close();
        await app.close();
      }
    });
  });
}
