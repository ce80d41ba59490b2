#!/usr/bin/env node
// Writes the V8 code cache of the bundled service for the node binary running this script, into
// <dir>/code-cache/, where the launcher (<dir>/accountservice.cjs) looks for it. V8 takes only data
// made by its own version with the same flags, so each node that runs the service writes its own:
// npm run build (scripts/bundle.mjs) for the building node, the image build for the image's.
//
// How: one start of the service in this process, through the launcher's own loadBundle, on a temp
// database and a free port on loopback, with the image's settings; then the requests a first health
// probe and a first client send; then the bytecode of everything that ran is stored (behind the
// bundle's digest and the data's own, which the launcher checks: codeCacheBytes), and SIGTERM stops
// the service (the process exits 0).
// Its log goes to stdout.
//
//   node scripts/write-code-cache.mjs <dir>        (default: dist)

import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet, createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long the service may take to answer its first /health with 200. */
const HEALTHY_WITHIN_MS = 30_000;
/** What a start and its first requests run: their bytecode is what the cache holds. */
const FIRST_REQUESTS = ['/health', '/health/ready', '/accounts/10000', '/accounts/1'];

const dir = resolve(process.argv[2] ?? 'dist');
/** The built launcher (launcher/accountservice.cts). */
// eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- require() of a built file is untyped: the cast names its type
const launcher = /** @type {typeof import('../launcher/accountservice.cjs')} */ (
  createRequire(import.meta.url)(join(dir, 'accountservice.cjs'))
);
const cacheDir = join(dir, 'code-cache');

const dataDir = mkdtempSync(join(tmpdir(), 'accountservice-code-cache-'));
process.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
const port = await freePort();
Object.assign(process.env, {
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  PORT: String(port),
  METRICS_PORT: '0',
  DB_PATH: join(dataDir, 'accounts.mdb'),
  SHUTDOWN_DRAIN_DELAY_MS: '0',
});
const loaded = launcher.loadBundle(join(dir, 'accountservice-bundle.cjs'), cacheDir);
loaded.run();
const base = `http://127.0.0.1:${port}`;
const deadline = Date.now() + HEALTHY_WITHIN_MS;
while ((await statusOf(`${base}/health`)) !== 200) {
  if (Date.now() > deadline) {
    process.stderr.write(
      `write-code-cache: the service did not answer 200 on /health within ${HEALTHY_WITHIN_MS} ms\n`,
    );
    process.exit(1);
  }
  await sleep(10);
}
for (const route of FIRST_REQUESTS) await statusOf(`${base}${route}`);
const file = launcher.codeCacheFile(cacheDir);
mkdirSync(cacheDir, { recursive: true });
writeFileSync(`${file}.tmp`, launcher.codeCacheBytes(loaded.digest, loaded.script.createCachedData()));
renameSync(`${file}.tmp`, file);
process.kill(process.pid, 'SIGTERM');

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const free = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(free));
    });
  });
}

/** The status of a GET, or 0 when there is no answer. @param {string} url @returns {Promise<number>} */
function statusOf(url) {
  return new Promise((resolveStatus) => {
    httpGet(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolveStatus(res.statusCode ?? 0));
    }).on('error', () => resolveStatus(0));
  });
}
