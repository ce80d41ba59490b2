// The shutdown with real signals, in a child process (terminus' standalone-tests habit): the
// fixture server is sent SIGTERM or SIGINT and must drain, close, run its cleanup and exit by itself.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitUntil, withDeadline } from './helpers/deadline.js';

const FIXTURE = fileURLToPath(new URL('fixtures/shutdown-server.ts', import.meta.url));

interface Child {
  readonly process: ChildProcess;
  readonly port: number;
  /** Parsed JSON lines of its stdout so far. */
  readonly lines: Record<string, unknown>[];
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  stderr(): string;
}

const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

async function startFixture(env: Record<string, string> = {}): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (let end = stdout.indexOf('\n'); end >= 0; end = stdout.indexOf('\n')) {
      lines.push(JSON.parse(stdout.slice(0, end)) as Record<string, unknown>);
      stdout = stdout.slice(end + 1);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const port = await waitUntil(
    () => lines.find((line) => typeof line.port === 'number')?.port as number | undefined,
    (found) => found !== undefined,
    30_000,
    `the fixture's port (stderr: ${stderr})`,
  );
  return { process: child, port, lines, exited, stderr: () => stderr };
}

function steps(child: Child): string[] {
  return child.lines
    .filter((line) => typeof line.type === 'string' || line.cleanup !== undefined)
    .map((line) => (typeof line.type === 'string' ? line.type : `ran ${String(line.cleanup)}`));
}

describe('the shutdown with real signals', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} by default: drains, closes, runs the cleanup and exits 0`, async () => {
      const child = await startFixture();
      const ok = await fetch(`http://127.0.0.1:${child.port}/health/ready`, { signal: AbortSignal.timeout(5000) });
      assert.equal(ok.status, 200);
      child.process.kill(signal);
      assert.deepEqual(await withDeadline(child.exited, 10_000, 'the exit'), { code: 0, signal: null }, child.stderr());
      assert.deepEqual(steps(child), [
        'signal',
        'draining',
        'closing',
        'health-closed',
        'servers-closed',
        'ran goodbye',
        'cleanup',
        'exit',
      ]);
      assert.equal(child.lines.find((line) => line.type === 'signal')?.reason, signal);
    });
  }

  it('the same signal again during the drain exits 1 at once', async () => {
    const child = await startFixture({ DRAIN_DELAY_MS: '60000' });
    child.process.kill('SIGTERM');
    await waitUntil(
      () => steps(child),
      (seen) => seen.includes('draining'),
      5000,
      'the draining event',
    );
    const ready = await fetch(`http://127.0.0.1:${child.port}/health/ready`, { signal: AbortSignal.timeout(5000) });
    assert.equal(ready.status, 503, 'readiness DOWN while draining');
    const sentAt = Date.now();
    child.process.kill('SIGTERM');
    assert.deepEqual(await withDeadline(child.exited, 5000, 'the exit on the second signal'), {
      code: 1,
      signal: null,
    });
    assert.ok(Date.now() - sentAt < 5000);
    assert.deepEqual(child.lines.at(-1), {
      type: 'exit',
      code: 1,
      reason: 'repeated',
      deadlineMs: 65_000,
      elapsedMs: child.lines.at(-1)?.elapsedMs,
    });
  });

  it('only the signals it is given: with SIGNALS=SIGUSR2, SIGUSR2 shuts it down', async () => {
    const child = await startFixture({ SIGNALS: 'SIGUSR2' });
    child.process.kill('SIGUSR2');
    assert.deepEqual(await withDeadline(child.exited, 10_000, 'the exit'), { code: 0, signal: null }, child.stderr());
    assert.equal(child.lines.find((line) => line.type === 'signal')?.reason, 'SIGUSR2');
  });
});
