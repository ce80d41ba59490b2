// What the image ships, without Docker: scripts/runtime-modules.mjs copies lmdb and its
// dependencies into a folder, and the built launcher and bundle run from that folder alone: it seeds a real
// LMDB file, answers an account and /health, and stops with exit 0. Nothing else is copied.

import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, assertBuilt } from '../helpers/service-process.js';
import { withDeadline } from '../helpers/deadline.js';
import { seededAccountJson } from '../helpers/account-json.js';
import { waitFor } from '../helpers/wait.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test('the bundle runs with only the packages runtime-modules.mjs copies (lmdb and its dependencies)', async () => {
  assertBuilt();
  const app = mkdtempSync(join(tmpdir(), 'accountservice-runtime-'));
  const data = mkdtempSync(join(tmpdir(), 'accountservice-runtime-data-'));
  dirs.push(app, data);
  execFileSync(process.execPath, [join(ROOT, 'scripts/runtime-modules.mjs'), app], { cwd: ROOT });
  // As the image has them: the launcher, the bundle and a code cache (the image writes its own).
  for (const file of ['accountservice.cjs', 'accountservice-bundle.cjs'])
    copyFileSync(join(ROOT, 'dist', file), join(app, file));
  cpSync(join(ROOT, 'dist/code-cache'), join(app, 'code-cache'), { recursive: true });

  const installed = readdirSync(join(app, 'node_modules'));
  assert.ok(installed.includes('lmdb'), installed.join(' '));
  for (const bundled of ['fastify', 'pino', 'prom-client', 'ajv']) {
    assert.equal(existsSync(join(app, 'node_modules', bundled)), false, `${bundled} is in the bundle, not copied`);
  }

  const child = spawn(process.execPath, ['accountservice.cjs'], {
    cwd: app,
    // METRICS_PORT: production's default, 9100, is a fixed port; any free one here.
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      PORT: '0',
      METRICS_PORT: '0',
      HOST: '127.0.0.1',
      DB_PATH: join(data, 'accounts.mdb'),
      SHUTDOWN_DRAIN_DELAY_MS: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const url = await waitFor(() => /Starting HTTP service at (http:\/\/\S+?)"/.exec(stdout)?.[1], {
      timeoutMs: 15_000,
      what: `the listen line (stdout: ${stdout} stderr: ${stderr})`,
    });
    const account = await fetch(`${url}/accounts/10042`, { headers: { connection: 'close' } });
    assert.equal(account.status, 200);
    assert.equal(await account.text(), seededAccountJson(42));
    const health = await fetch(`${url}/health`, { headers: { connection: 'close' } });
    assert.equal(health.status, 200, 'the database check reads the LMDB file');
    child.kill('SIGTERM');
    assert.equal(await withDeadline(exited, 10_000, 'the service to exit'), 0);
    assert.equal(stderr, '');
  } finally {
    child.kill('SIGKILL');
  }
});
