// The Express middleware on real Express 4 and Express 5 (the same test body over both): the
// adapter contract, a mount under a prefix, and Express's own types accepting the middleware.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import express5, { type ErrorRequestHandler, type Request } from 'express';
import express4 from 'express4';
import { healthMiddleware } from '../src/express.js';
import type { AdapterHooks, AnsweredRequest, Health } from '../src/types.js';
import { contractHealth, describeAdapterContract, type Mounted } from './helpers/adapter-contract.js';
import { close, get, listen } from './helpers/http.js';

const versions = [
  ['Express 4', express4],
  ['Express 5', express5],
] as const;

/** The app every test uses: the middleware (at `mountPath`), a route of the app's own, an error handler. */
async function mountOn(
  express: typeof express5,
  health: Health,
  hooks: AdapterHooks<Request>,
  mountPath = '/',
): Promise<Mounted> {
  const passedOn: string[] = [];
  const errors: unknown[] = [];
  const app = express();
  app.use(mountPath, healthMiddleware(health, hooks));
  app.use((request, response) => {
    passedOn.push(request.originalUrl);
    response.send(request.path === '/app' ? 'app' : 'not found');
  });
  const recordError: ErrorRequestHandler = (error, _request, response, _next) => {
    errors.push(error);
    response.status(500).send('error handler');
  };
  app.use(recordError);
  const server: Server = app.listen(0, '127.0.0.1');
  return { base: await listen(server), passedOn, errors, close: () => close(server) };
}

for (const [name, express] of versions) {
  describeAdapterContract(name, (health, hooks) => mountOn(express, health, hooks));

  describe(`${name}: mounted under a prefix`, () => {
    it("answers the views' paths under the prefix (req.url is relative there); the rest goes on", async () => {
      const health = contractHealth();
      await health.start();
      const answered: AnsweredRequest[] = [];
      // Express's own Request type in the hook: what a user writes, and it compiles.
      const hooks = {
        headers: (request: Request) => ({ 'x-mounted-at': request.baseUrl }),
        onAnswered: (info: AnsweredRequest) => answered.push(info),
      };
      const app = await mountOn(express, health, hooks, '/ops');
      try {
        const live = await get(`${app.base}/ops/health/live`);
        assert.equal(live.text, '{"status":"UP"}');
        assert.equal(live.headers.get('x-mounted-at'), '/ops');
        assert.deepEqual(
          answered.map(({ route }) => route),
          ['/health/live'],
        );
        assert.equal((await get(`${app.base}/health/live`)).text, 'not found');
        assert.deepEqual(app.passedOn, ['/health/live']);
      } finally {
        health.close();
        await app.close();
      }
    });
  });
}
