// What a consumer does first, at run time: a health with flags and a built-in check, answered by
// withHealth on a real server on port 0, then shut down by createShutdown with its exit injected.
// The modules come as arguments, so that run.mjs and run.cjs drive it with the package's ES
// modules, its CommonJS modules, and the two mixed.
'use strict';

const assert = require('node:assert/strict');
const { createServer } = require('node:http');

/**
 * What exercise uses of the root entry point and of health-views/checks.
 * @typedef {Pick<typeof import('health-views'), 'createHealth' | 'withHealth' | 'createShutdown'>} Root
 * @typedef {Pick<typeof import('health-views/checks'), 'memoryCheck'>} Checks
 */

/** @param {string} url @returns {Promise<[number, string]>} */
async function get(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return [response.status, await response.text()];
}

/** @param {Root} root @param {Checks} checks */
async function exercise({ createHealth, withHealth, createShutdown }, { memoryCheck }) {
  const health = createHealth({
    checks: [
      { name: 'started', kind: 'flag' },
      { name: 'draining', kind: 'flag', healthyWhen: false },
      memoryCheck({ maxRssBytes: 2 ** 50 }),
    ],
    views: [{ name: 'ready', path: '/health/ready', checks: ['started', 'draining', 'memory'] }],
  });
  await health.start();
  const server = createServer(
    withHealth(health, (_request, response) => {
      response.statusCode = 404;
      response.end();
    }),
  );
  /** @type {(code: number) => void} */
  let exit = () => {};
  /** @type {Promise<number>} */
  const exited = new Promise((resolve) => (exit = resolve));
  const shutdown = createShutdown({ health, flag: 'draining', servers: [server], signals: [], drainDelayMs: 0, exit });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  try {
    const address = server.address();
    assert.ok(address !== null && typeof address === 'object');
    const url = `http://127.0.0.1:${address.port}/health/ready`;
    const before = await get(url);
    health.flag('started').set(true);
    const after = await get(url);
    const app = await get(`http://127.0.0.1:${address.port}/accounts`);
    assert.deepEqual(
      { before: before[0], after, app: app[0] },
      { before: 503, after: [200, '{"status":"UP"}'], app: 404 },
      'readiness 503 until the flag is set, then 200; other paths reach the app',
    );
    shutdown.begin('the tarball test');
    assert.equal(health.view('ready')?.status, 'DOWN', 'readiness is DOWN as the shutdown begins');
    assert.equal(await exited, 0, 'the shutdown exits 0');
    assert.equal(server.listening, false, 'the shutdown closed the server');
  } finally {
    shutdown.dispose();
    if (server.listening) server.closeAllConnections();
    server.close();
    health.close();
  }
}

module.exports = { exercise };
