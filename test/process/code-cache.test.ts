// The launcher (launcher/accountservice.cts, built to dist/accountservice.cjs) starts the bundle from
// the V8 code cache the build wrote: V8 takes the build's cache, and a cache from another bundle
// or one V8 refuses is ignored: the service still starts and answers.

import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, assertBuilt, startService } from '../helpers/service-process.js';

const DIST = join(ROOT, 'dist');
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Whether V8 takes the cache in dir for the bundle in dir (a fresh node, as a start would be). */
function fromCache(dir: string): string {
  const run = spawnSync(
    process.execPath,
    [
      '-e',
      `process.stdout.write(String(require(${JSON.stringify(join(dir, 'accountservice.cjs'))}).loadBundle().fromCache))`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(run.status, 0, run.stderr);
  return run.stdout;
}

/** A copy of the built launcher and bundle with the given code cache for this node. */
function appWithCache(cache: Buffer): string {
  const app = mkdtempSync(join(tmpdir(), 'accountservice-code-cache-'));
  dirs.push(app);
  for (const file of ['accountservice.cjs', 'accountservice-bundle.cjs'])
    copyFileSync(join(DIST, file), join(app, file));
  symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'));
  mkdirSync(join(app, 'code-cache'));
  writeFileSync(join(app, 'code-cache', `${process.version}-${process.arch}.bin`), cache);
  return app;
}

const builtCache = (): Buffer => readFileSync(join(DIST, 'code-cache', `${process.version}-${process.arch}.bin`));

test('the build writes a code cache for this node that V8 takes', () => {
  assertBuilt();
  assert.equal(fromCache(DIST), 'true');
});

for (const [what, cache] of [
  // The first 32 bytes name the bundle (SHA-256); a cache made from another bundle must not be used.
  ['made from another bundle', () => Buffer.concat([Buffer.alloc(32, 7), builtCache().subarray(32)])],
  ['that V8 refuses (not V8 data)', () => Buffer.concat([builtCache().subarray(0, 32), Buffer.alloc(4096, 1)])],
  ['cut short', () => builtCache().subarray(0, 16)],
] as const) {
  test(`a code cache ${what} is ignored: the service starts and answers /health`, async () => {
    assertBuilt();
    const app = appWithCache(cache());
    assert.equal(fromCache(app), 'false');
    const service = await startService({ main: join(app, 'accountservice.cjs') });
    try {
      const health = await fetch(`${service.url}/health`, { headers: { connection: 'close' } });
      assert.equal(health.status, 200);
      assert.equal(await service.stop(), 0);
      assert.equal(service.stderr(), '');
    } finally {
      await service.cleanup();
    }
  });
}
