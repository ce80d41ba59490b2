// The bare node:http example as a user would run it: a child process on port 0, probed over HTTP,
// stopped with a real SIGTERM. It proves the package works with no framework at all.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { waitFor } from '../helpers/wait.js';

const root = new URL('../..', import.meta.url).pathname;

describe('examples/bare-http', () => {
  it('serves the three views, goes unready at SIGTERM at once, drains and exits 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/bare-http/server.ts'], {
      cwd: root,
      env: { ...process.env, PORT: '0', DRAIN_MS: '3000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'exit');
    try {
      const port = await waitFor(() => /"listening":(\d+)/.exec(stdout)?.[1], {
        timeoutMs: 20_000,
        what: `the example to print its port (stderr: ${stderr})`,
      });
      const base = `http://127.0.0.1:${port}`;
      const probe = async (path: string) => {
        const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(5000) });
        return { status: response.status, body: await response.text() };
      };
      await waitFor(async () => (await probe('/health/started')).status === 200, { timeoutMs: 5000, what: 'started' });
      for (const path of ['/health/live', '/health/ready', '/health/started']) {
        assert.deepEqual(await probe(path), { status: 200, body: '{"status":"UP"}' }, path);
      }
      assert.equal((await probe('/')).body, 'hello\n');

      child.kill('SIGTERM');
      // Still serving while it drains, but no longer ready: the flag turned it DOWN at once.
      const ready = await waitFor(
        async () => {
          const answer = await probe('/health/ready');
          return answer.status === 503 ? answer : undefined;
        },
        { timeoutMs: 2000, intervalMs: 10, what: 'ready to turn 503 after SIGTERM' },
      );
      assert.deepEqual(JSON.parse(ready.body), {
        status: 'DOWN',
        checks: { shutdown: { status: 'DOWN', cause: 'shutting down' } },
      });
      assert.equal((await probe('/health/live')).status, 200, 'alive while draining');
      const [code, signal] = (await Promise.race([
        exited,
        new Promise((_, reject) => setTimeout(() => reject(new Error('no exit within 10 s')), 10_000).unref()),
      ])) as [number | null, string | null];
      assert.deepEqual({ code, signal }, { code: 0, signal: null }, stderr);
      const events = stdout
        .split('\n')
        .filter((line) => line.startsWith('{"type"'))
        .map((line) => JSON.parse(line));
      const shutdown = events.find((e) => e.type === 'check' && e.check === 'shutdown');
      assert.deepEqual([shutdown?.from, shutdown?.to, shutdown?.cause], ['UP', 'DOWN', 'SIGTERM received']);
      assert.ok(events.some((e) => e.type === 'view' && e.view === 'ready' && e.from === 'UP' && e.to === 'DOWN'));
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
